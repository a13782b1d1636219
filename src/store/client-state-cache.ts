import type { ClientState, Store } from './store.js';

/**
 * Reads client revocation state through a very short cache, so the hot path does not hit the store per request
 * while a revocation on any instance sharing the store still applies within `ttlMs` (SPEC.md: within 1 s).
 */
export class ClientStateCache {
  private readonly entries = new Map<string, { state: ClientState; at: number }>();

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

  /** Forget what is cached (this instance revoked or restored a client). */
  invalidate(clientId?: string): void {
    if (clientId === undefined) this.entries.clear();
    else this.entries.delete(clientId);
  }
}
