/**
 * `server.tls: {cert, key}`: PEM files served on both listeners, for deployments without a terminating proxy. The
 * files are re-read when they change (a watch on their folders, so a renewal that renames new files in is seen) and
 * on every reload (SIGHUP, config change). A pair that does not load (half written, key and certificate that do not
 * match) is logged and the previous pair stays, so a renewal in two steps never breaks the listener.
 */
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import type { Server as HttpsServer } from 'node:https';
import { basename, dirname } from 'node:path';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import type { Logger } from './logger.js';

/** How long a burst of file events (a renewal writes two files) is left to settle before one reload. */
const DEBOUNCE_MS = 200;

export class TlsError extends Error {
  override name = 'TlsError';
}

/** Reads and checks the pair; throws TlsError naming the file or the mismatch. */
export function readTlsPair(certPath: string, keyPath: string): SecureContextOptions {
  const read = (path: string, what: string) => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new TlsError(`${path}: unreadable TLS ${what} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  };
  const pair = { cert: read(certPath, 'certificate'), key: read(keyPath, 'key') };
  try {
    createSecureContext(pair);
  } catch (err) {
    throw new TlsError(`${certPath}, ${keyPath}: not a usable certificate and key (${(err as Error).message})`);
  }
  return pair;
}

export class TlsFiles {
  private readonly servers: HttpsServer[] = [];
  private watchers: FSWatcher[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly certPath: string,
    readonly keyPath: string,
    private readonly logger: Logger,
    /** told of every re-read (metrics) */
    private readonly counted: (reason: string, ok: boolean) => void = () => undefined,
  ) {}

  /** the pair as it stands now, for a new server */
  read(): SecureContextOptions {
    return readTlsPair(this.certPath, this.keyPath);
  }

  serve(server: HttpsServer): void {
    this.servers.push(server);
  }

  /** Re-reads the pair into every server; on failure logs and keeps the previous one. */
  reload(reason: string): boolean {
    let pair: SecureContextOptions;
    try {
      pair = this.read();
    } catch (err) {
      this.logger.error({ reason, err: (err as Error).message }, 'TLS reload failed; keeping the previous certificate');
      this.counted(reason, false);
      return false;
    }
    for (const server of this.servers) server.setSecureContext(pair);
    this.logger.info({ reason }, 'TLS certificate reloaded');
    this.counted(reason, true);
    return true;
  }

  watch(): void {
    const names = new Set([basename(this.certPath), basename(this.keyPath)]);
    for (const dir of new Set([dirname(this.certPath), dirname(this.keyPath)])) {
      try {
        const watcher = watch(dir, { persistent: false }, (_event, name) => {
          // Kubernetes secret volumes swap a `..data` symlink instead of touching the files themselves
          if (name !== null && !names.has(name) && !name.startsWith('..')) return;
          clearTimeout(this.timer);
          this.timer = setTimeout(() => this.reload('file_changed'), DEBOUNCE_MS);
        });
        watcher.on('error', () => this.logger.warn({ dir }, 'the TLS file watch stopped; reload with SIGHUP'));
        this.watchers.push(watcher);
      } catch {
        this.logger.warn({ dir }, 'cannot watch the TLS files; reload with SIGHUP');
      }
    }
  }

  close(): void {
    clearTimeout(this.timer);
    for (const w of this.watchers) w.close();
    this.watchers = [];
  }
}
