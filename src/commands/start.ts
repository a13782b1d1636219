import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { loadConfigFile } from '../config/load-config.js';
import type { GatewayConfig } from '../config/schema.js';
import { createLogger } from '../server/logger.js';
import { startGateway, type RunningGateway, type StartOptions } from '../server/start-gateway.js';
import { serialReloader, watchConfig } from './config-reload.js';
import { startPrimary, startWorker } from './start-cluster.js';

export type StartCommandOptions = StartOptions & { configPath: string };

/** `server.workers` as a process count: `auto` is one per core the process may use. */
export function workerCount(setting: GatewayConfig['server']['workers']): number {
  return setting === 'auto' ? availableParallelism() : setting;
}

/** SIGTERM exits within this bound whatever happens: the drain (25 s) plus closing the store. */
const FORCED_EXIT_MS = 30_000;

/**
 * `scopegate start`: runs until SIGTERM/SIGINT (drain in-flight requests, exit 0). SIGHUP and a change of the
 * config file reload it: validated, swapped atomically; an invalid file is logged and the old config stays. With
 * `server.workers` above 1 this process becomes the cluster's primary (admin listener, reloads, restarts) and forks
 * the workers that serve the public listener.
 */
export async function startCommand(options: StartCommandOptions): Promise<RunningGateway> {
  if (cluster.isWorker) return startWorker(options);
  const workers = workerCount((options.config ?? loadConfigFile(resolve(options.configPath))).server.workers);
  if (workers > 1) return startPrimary(options, workers);
  return startSingle(options);
}

async function startSingle(options: StartCommandOptions): Promise<RunningGateway> {
  // The watch starts before the listeners, so an edit right after the "listening" line is never missed.
  let ready: (gateway: RunningGateway) => void = () => undefined;
  const logger = options.logger ?? createLogger();
  const reload = serialReloader(new Promise<RunningGateway>((resolve) => (ready = resolve)));
  const watcher = watchConfig(options.configPath, () => reload('file_changed'), logger);
  let gateway: RunningGateway;
  try {
    gateway = await startGateway({ ...options, logger });
  } catch (err) {
    watcher.close();
    throw err;
  }
  ready(gateway);
  if (watcher.failed) logger.warn('cannot watch the config file; reload with SIGHUP');
  process.on('SIGHUP', () => reload('sighup'));

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    // The forced exit is armed first and kept referenced, so nothing (a log line, a stuck socket) can skip it.
    setTimeout(() => process.exit(1), FORCED_EXIT_MS);
    logger.info({ signal }, 'draining');
    watcher.close();
    gateway.close().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  return gateway;
}
