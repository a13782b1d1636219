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
  // BENCH_SCOPEGATE_DIST: another build's dist/ folder (another checkout), to compare two builds in one run
  const dist = process.env.BENCH_SCOPEGATE_DIST;
  const built = dist
    ? new URL(`file://${dist.replace(/\/$/, '')}/src/server/start-gateway.js`)
    : new URL('../../dist/src/server/start-gateway.js', import.meta.url);
  const { startGateway } = (await import(built.href)) as StartModule;
  const gateway = await startGateway({ configPath: env.config, listen: '127.0.0.1:0' });
  return { url: gateway.url };
});
