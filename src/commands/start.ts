import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { ConfigError } from '../config/config-error.js';
import { startGateway, type RunningGateway, type StartOptions } from '../server/start-gateway.js';

/** How long a burst of file events (an editor's write, rename, chmod) is left to settle before one reload. */
const DEBOUNCE_MS = 200;

/** SIGTERM exits within this bound whatever happens: the drain (25 s) plus closing the store. */
const FORCED_EXIT_MS = 30_000;

/**
 * `scopegate start`: runs until SIGTERM/SIGINT (drain in-flight requests, exit 0). SIGHUP and a change of the
 * config file reload it: validated, swapped atomically; an invalid file is logged with `file:line:col` per problem
 * and the old config stays.
 */
export async function startCommand(options: StartOptions & { configPath: string }): Promise<RunningGateway> {
  // The watch starts before the listeners, so an edit right after the "listening" line is never missed.
  let ready: (gateway: RunningGateway) => void = () => undefined;
  let reloading: Promise<unknown> = new Promise<RunningGateway>((resolve) => (ready = resolve));
  const reload = (why: string) => {
    // One reload at a time, in order: a SIGHUP during a file-triggered reload runs after it.
    reloading = reloading.then(async () => {
      const { logger } = gateway;
      try {
        const restartOnly = await gateway.reload();
        logger.info({ reason: why }, 'config reloaded');
        if (restartOnly.length > 0) logger.warn({ settings: restartOnly }, 'these changes apply only after a restart');
      } catch (err) {
        const problems = err instanceof ConfigError ? err.message.split('\n') : [(err as Error).message];
        logger.error({ reason: why, problems }, 'config reload failed; keeping the previous config');
      }
    });
  };

  let timer: NodeJS.Timeout | undefined;
  let watcher: FSWatcher | undefined;
  const file = resolve(options.configPath);
  let watchFailed = false;
  try {
    // Watch the folder, not the file: editors and config managers replace the file (rename), which ends a file watch.
    watcher = watch(dirname(file), { persistent: false }, (_event, name) => {
      if (name !== null && name !== basename(file)) return;
      clearTimeout(timer);
      timer = setTimeout(() => reload('file_changed'), DEBOUNCE_MS);
    });
    watcher.on('error', () => gateway.logger.warn('the config watch stopped; reload with SIGHUP'));
  } catch {
    watchFailed = true;
  }
  let gateway: RunningGateway;
  try {
    gateway = await startGateway(options);
  } catch (err) {
    watcher?.close();
    clearTimeout(timer);
    throw err;
  }
  const { logger } = gateway;
  ready(gateway);
  if (watchFailed) logger.warn('cannot watch the config file; reload with SIGHUP');
  process.on('SIGHUP', () => reload('sighup'));

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    // The forced exit is armed first and kept referenced, so nothing (a log line, a stuck socket) can skip it.
    setTimeout(() => process.exit(1), FORCED_EXIT_MS);
    logger.info({ signal }, 'draining');
    watcher?.close();
    clearTimeout(timer);
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
