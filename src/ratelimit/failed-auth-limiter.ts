import type { Rate } from '../config/units.js';
import type { Store } from '../store/store.js';

const MAX_BLOCKS = 100_000;

/**
 * `server.failed_auth_limit`: failed credential checks per client address and per claimed client id. Failures are
 * counted in the store's fixed-window counters (`incrementCounter`), so instances that share a store share the
 * count. Once a counter reaches the limit, this instance remembers the block until the window ends and refuses that
 * address or client id before any (slow) secret check runs. The happy path costs nothing while no block exists, and
 * never a store round-trip: only failures are counted.
 */
export class FailedAuthLimiter {
  private readonly blocks = new Map<string, number>();

  /** counts kept in this process while the store is unreachable (a local share of the limit) */
  private readonly local = new Map<string, { count: number; resetAt: number }>();

  constructor(
    private readonly store: Store,
    readonly rate: () => Rate,
    /** live instances sharing the store (Redis), for the local share while it is unreachable */
    private readonly instances: () => number = () => 1,
  ) {}

  /** True while any address or client id is blocked: lets the hot path skip every look-up otherwise. */
  get active(): boolean {
    return this.blocks.size > 0;
  }

  /** ms until the address is let through again, 0 when it is not blocked. */
  addressBlockedMs(address: string | undefined, now: number): number {
    return address === undefined ? 0 : this.blockedMs(`a:${address}`, now);
  }

  /** ms until the client id is let through again, 0 when it is not blocked. */
  clientBlockedMs(clientId: string | undefined, now: number): number {
    return clientId === undefined ? 0 : this.blockedMs(`c:${clientId}`, now);
  }

  /**
   * Counts one failed check. Returns the ms to wait when this failure went over the limit (the caller answers 429
   * instead of 401), else 0. Failures at the limit block later attempts before their check.
   */
  async recordFailure(address: string | undefined, clientId: string | undefined, now: number): Promise<number> {
    const rate = this.rate();
    const keys: string[] = [];
    if (address !== undefined) keys.push(`a:${address}`);
    if (clientId !== undefined) keys.push(`c:${clientId}`);
    let over = 0;
    for (const key of keys) {
      let limit = rate.limit;
      let counted: { count: number; resetAt: number };
      try {
        counted = await this.store.incrementCounter(`failed_auth:${key}`, rate.windowMs, now);
      } catch (err) {
        // A shared store that is down: keep limiting with this instance's share, rather than not at all.
        if (!this.store.shared) throw err;
        limit = Math.max(1, Math.floor(rate.limit / this.instances()));
        counted = this.countLocally(key, rate.windowMs, now);
      }
      const { count, resetAt } = counted;
      if (count >= limit) this.block(key, resetAt, now);
      if (count > limit) over = Math.max(over, resetAt - now);
    }
    return over;
  }

  private countLocally(key: string, windowMs: number, now: number): { count: number; resetAt: number } {
    const resetAt = Math.floor(now / windowMs) * windowMs + windowMs;
    let entry = this.local.get(key);
    if (!entry || entry.resetAt !== resetAt) {
      if (this.local.size >= MAX_BLOCKS) this.local.clear();
      entry = { count: 0, resetAt };
      this.local.set(key, entry);
    }
    entry.count += 1;
    return { ...entry };
  }

  private blockedMs(key: string, now: number): number {
    const until = this.blocks.get(key);
    if (until === undefined) return 0;
    if (until > now) return until - now;
    this.blocks.delete(key);
    return 0;
  }

  private block(key: string, until: number, now: number): void {
    if (this.blocks.size >= MAX_BLOCKS) for (const [k, u] of this.blocks) if (u <= now) this.blocks.delete(k);
    if (this.blocks.size < MAX_BLOCKS) this.blocks.set(key, until);
  }
}
