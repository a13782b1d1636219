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

/**
 * Per-client `rate_limit` as a token bucket in this process's memory: capacity `limit`, refilled at `limit` per
 * window, so a client may burst up to its limit and then gets a steady rate. Nothing leaves the process, so the happy
 * path costs one Map look-up and no store round-trip; with N instances behind a load balancer each one allows the
 * full rate (see docs/operations.md). Buckets survive a reload unless the client's rate changed.
 */
export class ClientRateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  /**
   * `share`: how many processes split each client's limit (server.workers). Each one allows limit / share (at least
   * 1), so together they never allow more than the configured rate (docs/decisions.md, issue 15).
   */
  constructor(private readonly share = 1) {}

  /** Takes one token; returns 0 when the request may pass, else the ms until a token is available. */
  take(who: RateSubject, configured: Rate, now: number): number {
    const rate =
      this.share > 1 ? { ...configured, limit: Math.max(1, Math.floor(configured.limit / this.share)) } : configured;
    const key = bucketKey(who);
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
