/**
 * scopegate as `scopegate start` runs it: the built gateway (dist/), the default logger (one JSON line per request
 * to stdout, which the parent points at a file), the embedded SQLite store.
 */
import type { startGateway } from '../../src/server/start-gateway.js';
import { serveSetup } from '../child.js';
import { benchEnv } from './env.js';

type StartModule = { startGateway: typeof startGateway };

serveSetup(async () => {
  const env = benchEnv();
  // The compiled build, as the CLI runs it (npm run bench builds first).
  const built = new URL('../../dist/src/server/start-gateway.js', import.meta.url);
  const { startGateway } = (await import(built.href)) as StartModule;
  const gateway = await startGateway({ configPath: env.config, listen: '127.0.0.1:0' });
  return { url: gateway.url };
});
