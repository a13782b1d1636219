import type { ClientConfig } from '../config/schema.js';
import type { ClientState } from '../store/store.js';

/** Why a known client may not act right now, or undefined when it may. Shared by every credential kind. */
export function clientInactiveReason(client: ClientConfig, state: ClientState, now: number): string | undefined {
  if (state.revokedAt !== undefined) return 'client_revoked';
  if (client.expires_at !== undefined && now >= client.expires_at) return 'client_expired';
  return undefined;
}

/** True when a token issued at `issuedAtMs` predates the client's last revocation. */
export function issuedBeforeRevocation(state: ClientState, issuedAtMs: number): boolean {
  return state.notBefore !== undefined && issuedAtMs < state.notBefore;
}
