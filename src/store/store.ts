import type { ChangeFeed } from './change-feed.js';
import type { DocumentStore, LogEntry, StoredDocument } from './documents.js';

/**
 * Shared state behind one interface: client revocations, revoked token ids, refresh-token families and rate-limit
 * counters. `sqlite-store.ts` is the embedded default; a Redis store implements the same interface so several
 * instances share state. All times are milliseconds since the epoch.
 *
 * Every method signals failure by rejecting its promise, never by throwing; `openStore` wraps each backend so that
 * the rejection is a `StoreUnavailableError` (store-unavailable.ts), whatever the backend failed with.
 */
export interface ClientState {
  /** set while the client is revoked */
  revokedAt?: number;
  /** tokens issued before this instant stay invalid, even after a restore */
  notBefore?: number;
}

export interface RefreshRecord {
  /** SHA-256 hex of the refresh token; the token itself is never stored */
  hash: string;
  familyId: string;
  clientId: string;
  scopes: string[];
  tenant?: string;
  issuedAt: number;
  expiresAt: number;
  /** set once the token was exchanged; presenting it again is a replay */
  usedAt?: number;
  /** the whole family was revoked (replay, RFC 7009 revocation or client revocation) */
  revoked: boolean;
}

/** One GCRA decision (`consumeRate`). */
export interface RateResult {
  allowed: boolean;
  /** ms until one more request would be allowed; 0 when allowed */
  retryAfterMs: number;
  /** requests that could still pass right now */
  remaining: number;
}

/**
 * How a shared store is doing, for the caches above it and /readyz (SPEC.md 9). `starting`: state not loaded yet,
 * `up`: reachable and its change feed is live, `degraded`: unreachable since `since` (ms).
 */
export interface StoreHealth {
  state: 'starting' | 'up' | 'degraded';
  since: number;
}

/** One piece of state, as `store migrate` copies it from one store to another. */
export type StateItem =
  | { type: 'client'; id: string; state: ClientState }
  | { type: 'jti'; jti: string; expiresAt: number }
  | { type: 'refresh'; record: RefreshRecord }
  | { type: 'document'; doc: StoredDocument }
  | { type: 'log'; log: string; entry: LogEntry };

export interface CounterResult {
  count: number;
  /** when the current window ends */
  resetAt: number;
}

export interface Store extends DocumentStore, ChangeFeed {
  /**
   * True when several instances share this store (Redis): rate limits then go through `consumeRate`, and caches
   * rely on the change feed. False for memory and SQLite, whose callers keep their zero-round-trip local paths.
   */
  readonly shared: boolean;

  getClientState(clientId: string): Promise<ClientState>;
  /** revokes the client: sets revokedAt and notBefore to `at` */
  revokeClient(clientId: string, at: number): Promise<void>;
  /** clears revokedAt; notBefore stays, so earlier tokens remain invalid */
  restoreClient(clientId: string): Promise<void>;

  /** revokes one access token by `jti` until it would have expired anyway */
  revokeToken(jti: string, expiresAt: number): Promise<void>;
  isTokenRevoked(jti: string): Promise<boolean>;

  saveRefreshToken(record: RefreshRecord): Promise<void>;
  findRefreshToken(hash: string): Promise<RefreshRecord | undefined>;
  /** marks a refresh token used; false when it was already used (a replay); atomic across instances */
  markRefreshTokenUsed(hash: string, at: number): Promise<boolean>;
  revokeRefreshFamily(familyId: string): Promise<void>;
  /**
   * Refresh rotation in one atomic step: marks `usedHash` used at `at` and saves `successor` (born revoked when its
   * family is). When `usedHash` was already used (a replay) or is unknown, saves nothing, revokes the family of the
   * used token and returns false.
   */
  rotateRefreshToken(usedHash: string, at: number, successor: RefreshRecord): Promise<boolean>;

  /** increments a fixed-window counter and returns its value; windows are aligned to multiples of windowMs */
  incrementCounter(key: string, windowMs: number, now: number): Promise<CounterResult>;

  /**
   * GCRA (a token bucket without a timer): `limit` requests per `windowMs`, at most `burst` at once. A refused
   * request consumes nothing. A shared store takes the clock from the server so skewed hosts agree; `now` is used
   * by local stores.
   */
  consumeRate(key: string, limit: number, windowMs: number, burst: number, now: number): Promise<RateResult>;

  /** Every piece of durable state (client states, revoked jtis, refresh records, documents, logs). */
  exportState(): AsyncIterable<StateItem>;
  /** Writes one exported item unless the store already holds it; true when something changed. */
  importState(item: StateItem): Promise<boolean>;

  /** Shared stores report their health; local stores are always up. */
  health?(): StoreHealth;

  /** resolves when the store is reachable */
  ping(): Promise<void>;
  /**
   * A cheap real write (one tiny row upserted): resolves when the store can record changes now. `/readyz` and the
   * start of the gateway use it, because a store that can still be read may be unable to write (disk full, file
   * read-only or owned by another user, a lock held elsewhere).
   */
  probeWrite(): Promise<void>;
  /**
   * What readiness makes of a failed `probeWrite`: `not_ready` (the default; an embedded store that cannot write
   * must take the instance out of rotation) or `degraded` (a shared store whose outage the instance rides out:
   * SPEC.md 9, Redis).
   */
  readonly whenUnwritable?: 'not_ready' | 'degraded';
  close(): Promise<void>;
}
