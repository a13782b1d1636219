import type { Rate } from '../config/units.js';

interface Bucket {
  tokens: number;
  /** ms of the last refill */
  at: number;
  limit: number;
  windowMs: number;
}

/** Whose bucket: an identity is the pair (issuer, client id), so equal ids of two issuers never share one. */
export interface RateSubject {
  issuer: string;
  clientId: string;
}

/** One string per pair; JSON keeps `a b`+`c` apart from `a`+`b c` whatever the characters. */
const bucketKey = (who: RateSubject): string => JSON.stringify([who.issuer, who.clientId]);

/** A store that shares rate limits between instances (Redis): GCRA in one round trip, and how many instances live. */
export interface SharedRates {
  consumeRate(
    key: string,
    limit: number,
    windowMs: number,
    burst: number,
    now: number,
  ): Promise<{ allowed: boolean; retryAfterMs: number }>;
  /** live gateway instances (at least 1), for the local share while the store is unreachable */
  instances(): number;
}

/**
 * Per-client `rate_limit`: capacity `limit`, refilled at `limit` per window, so a client may burst up to its limit and
 * then gets a steady rate.
 *
 * - Local store (memory, SQLite): a token bucket in this process's memory; the happy path costs one Map look-up and
 *   no store round-trip, and each instance allows the full rate.
 * - Shared store (Redis): the same budget enforced across all instances by GCRA in one Lua script (clock taken in
 *   Redis). When Redis is unreachable (the call fails at once while the circuit is open), each instance falls back
 *   to a local bucket of its share, limit / live instances, so the total stays near the configured rate.
 *
 * The key is opaque (a client id, or an issuer + client id pair). Buckets survive a reload unless the rate changed.
 */
export class ClientRateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  /**
   * `shared`: a store that shares limits between instances (Redis); then every instance and worker takes from one
   * budget. `share`: without one, how many processes split each client's limit (server.workers): each allows
   * limit / share (at least 1), so together they never allow more than the configured rate (docs/decisions.md).
   */
  constructor(
    private readonly shared?: SharedRates,
    private readonly share = 1,
  ) {}

  /**
   * Takes one request's worth; 0 when the request may pass, else the ms until it would. Synchronous with a local
   * store; a promise (which never rejects) with a shared one.
   */
  take(who: RateSubject, configured: Rate, now: number): number | Promise<number> {
    const key = bucketKey(who);
    const shared = this.shared;
    if (!shared) {
      const limit = this.share > 1 ? Math.max(1, Math.floor(configured.limit / this.share)) : configured.limit;
      return this.takeLocal(key, { ...configured, limit }, now);
    }
    return shared.consumeRate(`client:${key}`, configured.limit, configured.windowMs, configured.limit, now).then(
      (result) => (result.allowed ? 0 : Math.max(1, result.retryAfterMs)),
      // every process of every instance holds its own connection, so `instances()` counts workers too
      () => this.takeLocal(key, { ...configured, limit: Math.max(1, configured.limit / shared.instances()) }, now),
    );
  }

  private takeLocal(key: string, rate: Rate, now: number): number {
    let bucket = this.buckets.get(key);
    if (!bucket || bucket.limit !== rate.limit || bucket.windowMs !== rate.windowMs) {
      bucket = { tokens: rate.limit, at: now, limit: rate.limit, windowMs: rate.windowMs };
      this.buckets.set(key, bucket);
    } else if (now > bucket.at) {
      bucket.tokens = Math.min(rate.limit, bucket.tokens + ((now - bucket.at) * rate.limit) / rate.windowMs);
      bucket.at = now;
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - bucket.tokens) * rate.windowMs) / rate.limit);
  }

  /** Tokens left (rounded down) for the `RateLimit` field. */
  remaining(who: RateSubject): number {
    return Math.floor(this.buckets.get(bucketKey(who))?.tokens ?? 0);
  }

  /** Keeps only the buckets of `issuer`'s clients that are still configured (after a reload). */
  retain(issuer: string, clientIds: ReadonlySet<string> | ReadonlyMap<string, unknown>): void {
    const keep = new Set<string>();
    for (const clientId of clientIds.keys()) keep.add(bucketKey({ issuer, clientId }));
    for (const key of this.buckets.keys()) if (!keep.has(key)) this.buckets.delete(key);
  }
}
