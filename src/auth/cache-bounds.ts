/**
 * Bounds of the per-token caches: by entries (`max`) and by bytes (`maxSize` with `sizeCalculation`, lru-cache), so
 * tokens with large claims cannot grow a cache past its byte budget however few entries it holds.
 */
import { LRUCache } from 'lru-cache';

/** bytes each per-token cache (verified local tokens, trusted issuers', introspection results) may hold */
export const TOKEN_CACHE_MAX_BYTES = 32 * 1024 * 1024;

/** what an entry costs besides its JSON: the key string, the LRU's slots, object headers */
const ENTRY_OVERHEAD = 256;

/**
 * Approximate bytes of a cached entry: its key plus the JSON of what `measure` picks of its value (claims, an
 * identity: plain data), plus a fixed overhead. Runs on a cache miss only.
 */
export function entryBytes(value: unknown, key: string): number {
  return key.length + ENTRY_OVERHEAD + (JSON.stringify(value)?.length ?? 0);
}

export interface TokenCacheOptions<V> {
  /** most entries */
  max: number;
  /** most bytes, as `entryBytes` counts them (default TOKEN_CACHE_MAX_BYTES) */
  maxBytes?: number;
  /** the data part of a value that is counted (e.g. the claims, not the shared issuer object it points to) */
  measure: (value: V) => unknown;
  ttl?: number;
}

/** An LRU keyed by a token's hash, bounded by entries and by bytes; an entry larger than the budget is not kept. */
export function tokenCache<V extends object>(options: TokenCacheOptions<V>): LRUCache<string, V> {
  return new LRUCache<string, V>({
    max: options.max,
    maxSize: options.maxBytes ?? TOKEN_CACHE_MAX_BYTES,
    sizeCalculation: (value, key) => entryBytes(options.measure(value), key),
    ...(options.ttl !== undefined ? { ttl: options.ttl, ttlAutopurge: false } : {}),
  });
}
