/**
 * scopegate as `scopegate start` runs it: the built gateway (dist/), the default logger (one JSON line per request
 * to stdout, which the parent points at a file), the embedded SQLite store.
 */
import { pathToFileURL } from 'node:url';
import { serveSetup } from '../child.js';
import { benchEnv } from './env.js';

type StartModule = typeof import('../../src/server/start-gateway.js');

serveSetup(async () => {
  const env = benchEnv();
  // The compiled build, as the CLI runs it (npm run bench builds first).
  const built = new URL('../../dist/src/server/start-gateway.js', import.meta.url);
  const { startGateway } = (await import(pathToFileURL(built.pathname).href)) as StartModule;
  const gateway = await startGateway({ configPath: env.config, listen: '127.0.0.1:0' });
  return { url: gateway.url };
});
