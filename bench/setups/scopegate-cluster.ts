/**
 * scopegate with `server.workers: BENCH_WORKERS`, started the way an operator starts it: `bin/scopegate start` (the
 * launcher, the built CLI, node:cluster), on the bench config with the worker count and a fixed port added. The
 * parent sums CPU over the whole process tree (primary and workers).
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { serveSetup } from '../child.js';
import { benchEnv } from './env.js';
// the tests' helper: dependency-free, one implementation for the whole repository
import { freePort } from '../../test/helpers/free-port.js';
import { waitForAnswer } from './wait-for-answer.js';

serveSetup(async () => {
  const env = benchEnv();
  const workers = Number(process.env.BENCH_WORKERS ?? '2');
  const port = await freePort();
  // beside the original, so its relative paths (keys, store) mean the same files
  const config = join(dirname(env.config), `gateway-workers-${workers}.yaml`);
  const yaml = readFileSync(env.config, 'utf8').replace(
    /^server:\n {2}listen: .*$/m,
    `server:\n  listen: 127.0.0.1:${port}\n  workers: ${workers}`,
  );
  if (!yaml.includes(`workers: ${workers}`)) throw new Error('bench config: no server.listen line to replace');
  writeFileSync(config, yaml);
  const launcher = new URL('../../bin/scopegate', import.meta.url).pathname;
  const gateway = spawn(launcher, ['start', '--config', config], { stdio: ['ignore', 'inherit', 'inherit'] });
  // SIGTERM drains every worker, then the primary exits
  process.on('exit', () => gateway.kill('SIGTERM'));
  const url = `http://127.0.0.1:${port}`;
  await Promise.race([
    waitForAnswer(`${url}/api/menu/items`, 401),
    new Promise((_, reject) => gateway.once('exit', (code) => reject(new Error(`scopegate exited (${code})`)))),
  ]);
  return { url };
});
