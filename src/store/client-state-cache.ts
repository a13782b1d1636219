import type { ClientState, Store } from './store.js';

/**
 * Reads client revocation state and revoked token ids through a very short cache, so the hot path does not hit the
 * store per request while a revocation on any instance sharing the store still applies within `ttlMs` (SPEC.md:
 * within 1 s). A client revoked through this instance applies at once (`invalidate`).
 */
export class ClientStateCache {
  private readonly entries = new Map<string, { state: ClientState; at: number }>();
  private readonly tokens = new Map<string, { revoked: boolean; at: number }>();

  constructor(
    private readonly store: Store,
    private readonly ttlMs = 250,
    private readonly maxEntries = 10_000,
  ) {}

  async get(clientId: string, now = Date.now()): Promise<ClientState> {
    const hit = this.entries.get(clientId);
    if (hit && now - hit.at < this.ttlMs) return hit.state;
    const state = await this.store.getClientState(clientId);
    if (this.entries.size >= this.maxEntries) this.entries.clear();
    this.entries.set(clientId, { state, at: now });
    return state;
  }

  /** Whether an access token's `jti` was revoked (RFC 7009), through the same short cache. */
  async isTokenRevoked(jti: string, now = Date.now()): Promise<boolean> {
    const hit = this.tokens.get(jti);
    if (hit && now - hit.at < this.ttlMs) return hit.revoked;
    const revoked = await this.store.isTokenRevoked(jti);
    if (this.tokens.size >= this.maxEntries) this.tokens.clear();
    this.tokens.set(jti, { revoked, at: now });
    return revoked;
  }

  /** Forget one token's cached state (this instance revoked it, RFC 7009). */
  forgetToken(jti: string): void {
    this.tokens.delete(jti);
  }

  /** Forget what is cached (this instance revoked or restored a client). */
  invalidate(clientId?: string): void {
    if (clientId === undefined) {
      this.entries.clear();
      this.tokens.clear();
    } else this.entries.delete(clientId);
  }
}
