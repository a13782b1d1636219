import { CLOCK_TOLERANCE_S } from './local-jwt.js';

/**
 * The longest lifetime (`exp - iat`) a local access token may have (SPEC.md 3: no longer than `access_token_ttl`).
 * A reload that lowers `access_token_ttl` must not turn outstanding tokens into `lifetime_too_long`: a token keeps
 * the lifetime it was issued with, up to its `exp`. So the ceiling is the ttl in force now, or a longer one that was
 * in force until a reload, for as long as a token minted under it can still be unexpired (its ttl plus the 30 s
 * leeway after the reload). Process-wide: a restart starts from the file's ttl (docs/decisions.md).
 */
export class AccessTtlCeiling {
  /** longer ttls no longer in force, each with the instant after which no token minted under it is unexpired */
  private earlier: { ttlMs: number; until: number }[] = [];

  constructor(private current: number) {}

  /** A reload: `ttlMs` is in force from `now` on. */
  update(ttlMs: number, now: number): void {
    if (ttlMs === this.current) return;
    this.earlier.push({ ttlMs: this.current, until: now + this.current + CLOCK_TOLERANCE_S * 1000 });
    this.current = ttlMs;
    this.prune(now);
  }

  /** The longest lifetime a token may have at `now` (ms). */
  maxLifetimeMs(now: number): number {
    if (this.earlier.length > 0) this.prune(now);
    let max = this.current;
    for (const e of this.earlier) max = Math.max(max, e.ttlMs);
    return max;
  }

  /** Drops what ended and what the current ttl covers; keeps one entry per ttl, so a reload storm stays small. */
  private prune(now: number): void {
    const byTtl = new Map<number, number>();
    for (const e of this.earlier) {
      if (e.until <= now || e.ttlMs <= this.current) continue;
      byTtl.set(e.ttlMs, Math.max(byTtl.get(e.ttlMs) ?? 0, e.until));
    }
    this.earlier = [...byTtl].map(([ttlMs, until]) => ({ ttlMs, until }));
  }
}
