import type { Rate } from '../config/units.js';

interface Bucket {
  tokens: number;
  /** ms of the last refill */
  at: number;
  limit: number;
  windowMs: number;
}

/**
 * Per-client `rate_limit` as a token bucket in this process's memory: capacity `limit`, refilled at `limit` per
 * window, so a client may burst up to its limit and then gets a steady rate. Nothing leaves the process, so the happy
 * path costs one Map look-up and no store round-trip; with N instances behind a load balancer each one allows the
 * full rate (see docs/operations.md). Buckets survive a reload unless the client's rate changed.
 */
export class ClientRateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  /** Takes one token; returns 0 when the request may pass, else the ms until a token is available. */
  take(clientId: string, rate: Rate, now: number): number {
    let bucket = this.buckets.get(clientId);
    if (!bucket || bucket.limit !== rate.limit || bucket.windowMs !== rate.windowMs) {
      bucket = { tokens: rate.limit, at: now, limit: rate.limit, windowMs: rate.windowMs };
      this.buckets.set(clientId, bucket);
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
  remaining(clientId: string): number {
    return Math.floor(this.buckets.get(clientId)?.tokens ?? 0);
  }

  /** Drops the buckets of clients that are no longer configured (after a reload). */
  retain(clientIds: ReadonlySet<string> | ReadonlyMap<string, unknown>): void {
    for (const id of this.buckets.keys()) if (!clientIds.has(id)) this.buckets.delete(id);
  }
}
