import { storeUnavailable } from '../errors/oauth-error.js';
import type { StoreChange } from './change-feed.js';
import type { ClientState, Store } from './store.js';

export interface ClientStateCacheOptions {
  /** local stores: how long an entry is trusted (default 250 ms) */
  ttlMs?: number;
  maxEntries?: number;
  /**
   * Shared store (it reports `health()`): how long entries keep answering while the store is unreachable (SPEC.md 9
   * `stale_max`, default 60 s); afterwards lookups fail with 503.
   */
  staleMaxMs?: number;
  /** shared store: entries are dropped after this long even without a change (a safety net; default 10 s) */
  maxTtlMs?: number;
}

interface Entry<T> {
  value: T;
  at: number;
}

/**
 * Reads client revocation state and revoked token ids through a cache, so the hot path does not hit the store per
 * request.
 *
 * - Local stores (memory, SQLite): entries live `ttlMs` (250 ms): a revocation by another process on the same
 *   SQLite file applies within that.
 * - A shared store with a change feed (Redis): entries live until a change names them or a `reset` flushes all
 *   (with `maxTtlMs` as a safety net), so a revocation on any instance applies as fast as the feed delivers it.
 *   A read that raced a change is not cached (the change epoch moved while it was in flight), so a refusal is never
 *   followed by an acceptance from a stale read. While the store is degraded, entries keep answering until
 *   `staleMaxMs` after the outage began; then, and for anything not cached, 503 with Retry-After.
 *
 * A client revoked through this instance applies at once (`invalidate`).
 */
export class ClientStateCache {
  private readonly entries = new Map<string, Entry<ClientState>>();
  private readonly tokens = new Map<string, Entry<boolean>>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly staleMaxMs: number;
  private readonly maxTtlMs: number;
  private readonly pushed: boolean;
  /** moves with every change seen: a read that started before a change must not be cached */
  private epoch = 0;
  private readonly unsubscribe: (() => void) | undefined;

  constructor(
    private readonly store: Store,
    ttlMsOrOptions: number | ClientStateCacheOptions = {},
    maxEntries = 10_000,
  ) {
    const options = typeof ttlMsOrOptions === 'number' ? { ttlMs: ttlMsOrOptions, maxEntries } : ttlMsOrOptions;
    this.ttlMs = options.ttlMs ?? 250;
    this.maxEntries = options.maxEntries ?? maxEntries;
    this.staleMaxMs = options.staleMaxMs ?? 60_000;
    this.maxTtlMs = options.maxTtlMs ?? 10_000;
    this.pushed = typeof store.health === 'function';
    if (this.pushed) this.unsubscribe = store.onChange((change) => this.onChange(change));
  }

  async get(clientId: string, now = Date.now()): Promise<ClientState> {
    return this.read(this.entries, clientId, now, () => this.store.getClientState(clientId));
  }

  /** Whether an access token's `jti` was revoked (RFC 7009), through the same cache. */
  async isTokenRevoked(jti: string, now = Date.now()): Promise<boolean> {
    return this.read(this.tokens, jti, now, () => this.store.isTokenRevoked(jti));
  }

  /** Forget one token's cached state (this instance revoked it, RFC 7009). */
  forgetToken(jti: string): void {
    this.epoch++;
    this.tokens.delete(jti);
  }

  /** Forget what is cached (this instance revoked or restored a client). */
  invalidate(clientId?: string): void {
    this.epoch++;
    if (clientId === undefined) {
      this.entries.clear();
      this.tokens.clear();
    } else this.entries.delete(clientId);
  }

  close(): void {
    this.unsubscribe?.();
  }

  private onChange(change: StoreChange): void {
    this.epoch++;
    if (change.kind === 'client') this.entries.delete(change.id);
    else if (change.kind === 'token') this.tokens.delete(change.id);
    else if (change.kind === 'reset') {
      this.entries.clear();
      this.tokens.clear();
    }
  }

  private async read<T>(map: Map<string, Entry<T>>, key: string, now: number, load: () => Promise<T>): Promise<T> {
    const hit = map.get(key);
    if (!this.pushed) {
      if (hit && now - hit.at < this.ttlMs) return hit.value;
      const value = await load();
      this.remember(map, key, value, now);
      return value;
    }
    const health = this.store.health!();
    if (health.state === 'up' && hit && now - hit.at < this.maxTtlMs) return hit.value;
    if (health.state === 'degraded') {
      // the last known state, for a bounded time (stale_max)
      if (now - health.since > this.staleMaxMs) throw storeUnavailable();
      if (hit) return hit.value;
    }
    const epoch = this.epoch;
    let value: T;
    try {
      value = await load();
    } catch {
      throw storeUnavailable();
    }
    if (epoch === this.epoch && this.store.health!().state === 'up') this.remember(map, key, value, now);
    return value;
  }

  private remember<T>(map: Map<string, Entry<T>>, key: string, value: T, now: number): void {
    if (map.size >= this.maxEntries) map.clear();
    map.set(key, { value, at: now });
  }
}
