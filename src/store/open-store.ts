import path from 'node:path';
import { MemoryStore } from './memory-store.js';
import { RedisStore } from './redis-store.js';
import { isRedisUrl, redactUrl } from './redis-url.js';
import { guardStore } from './guard-store.js';
import { SqliteStore } from './sqlite-store.js';
import type { Store } from './store.js';

export interface OpenStoreOptions {
  /** `store_options` (SPEC.md 9); only the Redis store reads them */
  prefix?: string;
  commandTimeoutMs?: number;
  log?: (level: 'info' | 'warn', message: string) => void;
}

/**
 * Opens the store a `store:` URL names: `sqlite:PATH` (a relative PATH is resolved against `baseDir`, the folder of
 * the config file; `sqlite://PATH` is accepted too), `memory:`, or `redis://[user:pass@]host:port[/db]` /
 * `rediss://` (connected, persistence checked, change feed started). Every failure (bad URL, unusable file,
 * unreachable Redis) is a rejected promise; every later failure of the store a rejection with StoreUnavailableError
 * (guard-store.ts).
 */
export async function openStore(url: string, baseDir: string, options: OpenStoreOptions = {}): Promise<Store> {
  return guardStore(await openBackend(url, baseDir, options));
}

async function openBackend(url: string, baseDir: string, options: OpenStoreOptions): Promise<Store> {
  const trimmed = url.trim();
  if (trimmed === 'memory:' || trimmed === 'memory://') return new MemoryStore();
  if (trimmed.startsWith('sqlite:')) {
    let file = trimmed.slice('sqlite:'.length);
    if (file.startsWith('//')) file = file.slice(2);
    if (file === '') throw new Error(`store URL "${url}" names no file; expected sqlite:PATH`);
    return new SqliteStore(path.resolve(baseDir, file));
  }
  if (isRedisUrl(trimmed)) {
    const store = new RedisStore(trimmed, {
      ...(options.prefix !== undefined ? { prefix: options.prefix } : {}),
      ...(options.commandTimeoutMs !== undefined ? { commandTimeoutMs: options.commandTimeoutMs } : {}),
      ...(options.log ? { log: options.log } : {}),
    });
    try {
      await store.connect();
    } catch (err) {
      await store.close();
      throw new Error(
        `cannot reach the store at ${store.redacted}: ${err instanceof Error ? err.message : String(err)}`,
        { cause: err },
      );
    }
    return store;
  }
  throw new Error(`unsupported store URL "${redactUrl(url)}"; expected sqlite:PATH, memory: or redis://host:port`);
}
