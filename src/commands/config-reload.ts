import { watch } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { ConfigError } from '../config/config-error.js';
import type { Logger } from '../server/logger.js';
import type { RunningGateway } from '../server/start-gateway.js';

/** How long a burst of file events (an editor's write, rename, chmod) is left to settle before one reload. */
const DEBOUNCE_MS = 200;

/**
 * Reloads `gateway` one at a time, in order (a SIGHUP during a file-triggered reload runs after it); an invalid
 * config is logged with `file:line:col` per problem and the old one stays. `onReloaded` runs after a valid reload.
 */
export function serialReloader(
  gateway: Promise<RunningGateway>,
  onReloaded: (reason: string) => void = () => undefined,
): (reason: string) => void {
  let reloading: Promise<unknown> = gateway;
  return (reason: string) => {
    reloading = reloading.then(async () => {
      const { logger } = await gateway;
      try {
        const restartOnly = await (await gateway).reload();
        logger.info({ reason }, 'config reloaded');
        if (restartOnly.length > 0) logger.warn({ settings: restartOnly }, 'these changes apply only after a restart');
        onReloaded(reason);
      } catch (err) {
        const problems = err instanceof ConfigError ? err.message.split('\n') : [(err as Error).message];
        logger.error({ reason, problems }, 'config reload failed; keeping the previous config');
      }
    });
  };
}

/**
 * Watches the config file's folder (editors and config managers replace the file, which ends a file watch) and
 * calls `onChange` once per burst of events. `failed` when the folder cannot be watched.
 */
export function watchConfig(
  configPath: string,
  onChange: () => void,
  logger: Logger,
): { close(): void; failed: boolean } {
  const file = resolve(configPath);
  let timer: NodeJS.Timeout | undefined;
  try {
    const watcher = watch(dirname(file), { persistent: false }, (_event, name) => {
      if (name !== null && name !== basename(file)) return;
      clearTimeout(timer);
      timer = setTimeout(onChange, DEBOUNCE_MS);
    });
    watcher.on('error', () => logger.warn('the config watch stopped; reload with SIGHUP'));
    return {
      failed: false,
      close() {
        watcher.close();
        clearTimeout(timer);
      },
    };
  } catch {
    return { failed: true, close: () => undefined };
  }
}
