import type { ClientSecretVerifier } from '../auth/client-secret-verifier.js';
import type { CompiledConfig } from '../config/compile-config.js';
import type { ClientStateCache } from '../store/client-state-cache.js';
import type { Store } from '../store/store.js';
import type { KeySet } from './keys.js';

/** What the local issuer (token endpoint, revocation, metadata, local token verification) needs from its host. */
export interface IssuerDeps {
  /** the current config; a reload swaps it, so it is read per request */
  compiled: () => CompiledConfig;
  store: Store;
  keys: KeySet;
  clientSecrets: ClientSecretVerifier;
  /** the gateway's revocation cache, so a revocation through this instance applies at once */
  clientStates?: ClientStateCache;
  /** clock in ms since the epoch (default `Date.now`) */
  now?: () => number;
  /** called on every failed client authentication (rate limiting is added by the host) */
  onFailedClientAuth?: (clientId: string | undefined, remoteAddress: string | undefined) => void;
  /** called when a request was answered 503 because the store failed; `cause` is the error's message only */
  onStoreUnavailable?: (cause: string, endpoint: string) => void;
}

export function nowOf(deps: Pick<IssuerDeps, 'now'>): number {
  return deps.now ? deps.now() : Date.now();
}
