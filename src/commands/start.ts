import { watch, type FSWatcher } from 'node:fs';
import { ConfigError } from '../config/config-error.js';
import { startGateway, type RunningGateway, type StartOptions } from '../server/start-gateway.js';

/**
 * `scopegate start`: runs until SIGTERM/SIGINT (drain in-flight requests, exit 0). SIGHUP and a change of the
 * config file reload it: validated, swapped atomically; an invalid file is logged and the old config stays.
 */
export async function startCommand(options: StartOptions & { configPath: string }): Promise<RunningGateway> {
  const gateway = await startGateway(options);
  const { logger } = gateway;

  const reload = async (why: string) => {
    try {
      await gateway.reload();
      logger.info({ reason: why }, 'config reloaded');
    } catch (err) {
      const problems = err instanceof ConfigError ? err.message.split('\n') : [(err as Error).message];
      logger.error({ reason: why, problems }, 'config reload failed; keeping the previous config');
    }
  };

  let timer: NodeJS.Timeout | undefined;
  let watcher: FSWatcher | undefined;
  try {
    // Editors replace files (rename), so watch and debounce; a rename also re-arms the watch.
    watcher = watch(options.configPath, { persistent: false }, () => {
      clearTimeout(timer);
      timer = setTimeout(() => void reload('file_changed'), 200);
    });
  } catch {
    logger.warn('cannot watch the config file; reload with SIGHUP');
  }
  process.on('SIGHUP', () => void reload('sighup'));

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'draining');
    watcher?.close();
    clearTimeout(timer);
    const force = setTimeout(() => process.exit(1), 30_000);
    force.unref();
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
