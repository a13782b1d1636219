import type { Store } from '../store/store.js';
import type { ClientSecretVerifier } from '../auth/client-secret-verifier.js';
import type { ClientStateCache } from '../store/client-state-cache.js';

interface AccessServices {
  store: Store;
  clientSecrets?: ClientSecretVerifier;
  clientStates?: ClientStateCache;
  now?: () => number;
}

/**
 * Takes a client's access away: its tokens, refresh tokens, API keys and secret stop working on every instance that
 * shares the store (they read client state through a cache of at most 250 ms). Returns the revocation time.
 */
export async function revokeClientAccess(services: AccessServices, clientId: string): Promise<number> {
  const at = (services.now ?? Date.now)();
  await services.store.revokeClient(clientId, at);
  services.clientStates?.invalidate(clientId);
  services.clientSecrets?.forget(clientId);
  return at;
}

/** Gives access back; tokens issued before the revocation stay invalid (the store keeps notBefore). */
export async function restoreClientAccess(services: AccessServices, clientId: string): Promise<void> {
  await services.store.restoreClient(clientId);
  services.clientStates?.invalidate(clientId);
}
