import path from 'node:path';
import { MemoryStore } from './memory-store.js';
import { guardStore } from './guard-store.js';
import { SqliteStore } from './sqlite-store.js';
import type { Store } from './store.js';

/**
 * Opens the store a `store:` URL names: `sqlite:PATH` (a relative PATH is resolved against `baseDir`, the folder of
 * the config file; `sqlite://PATH` is accepted too), or `memory:`. `redis://` is recognised but not built yet.
 * Every failure (bad URL, unusable file) is a rejected promise; every later failure of the store a rejection with
 * StoreUnavailableError (guard-store.ts).
 */
export async function openStore(url: string, baseDir: string): Promise<Store> {
  return guardStore(await openBackend(url, baseDir));
}

async function openBackend(url: string, baseDir: string): Promise<Store> {
  const trimmed = url.trim();
  if (trimmed === 'memory:' || trimmed === 'memory://') return new MemoryStore();
  if (trimmed.startsWith('sqlite:')) {
    let file = trimmed.slice('sqlite:'.length);
    if (file.startsWith('//')) file = file.slice(2);
    if (file === '') throw new Error(`store URL "${url}" names no file; expected sqlite:PATH`);
    return new SqliteStore(path.resolve(baseDir, file));
  }
  if (/^rediss?:\/\//.test(trimmed)) {
    throw new Error(`store URL "${redact(url)}": the Redis store is not built yet; use sqlite:PATH or memory:`);
  }
  throw new Error(`unsupported store URL "${redact(url)}"; expected sqlite:PATH, memory: or redis://host:port`);
}

/** Hides a password in `scheme://user:password@host` so a store URL can appear in an error message. */
function redact(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/@:]*:)[^/@]*@/i, '$1***@');
}
