import type { AuthContext } from '../auth/authenticate.js';
import type { BearerAuthenticator } from '../auth/bearer-authenticator.js';
import type { ClientSecretVerifier } from '../auth/client-secret-verifier.js';
import type { PeekCache } from '../auth/peek-cache.js';
import { IntrospectionAuthenticator } from '../auth/introspection-authenticator.js';
import { adminTokenHashes, OwnCredentialGuard, ownCredentialHashes } from '../auth/own-credential-guard.js';
import { TrustedIssuerAuthenticator } from '../auth/trusted-issuer-authenticator.js';
import type { CompiledConfig } from '../config/compile-config.js';
import type { ChallengeContext } from '../errors/render-error.js';
import type { KeySet } from '../issuer/keys.js';
import type { AccessTtlCeiling } from '../issuer/access-ttl-ceiling.js';
import { hashRefreshToken } from '../issuer/refresh-tokens.js';
import { LocalTokenAuthenticator, type VerifiedTokenCache } from '../issuer/verify-local-token.js';
import { Forwarder } from '../proxy/forwarder.js';
import type { ClientStateCache } from '../store/client-state-cache.js';
import type { Store } from '../store/store.js';

/** What lives as long as the process: state, keys, caches that survive a reload. */
export interface Services {
  store: Store;
  keys?: KeySet;
  clientSecrets: ClientSecretVerifier;
  clientStates: ClientStateCache;
  now: () => number;
  /** told when an API key of a store client was used (last_used_at) */
  onApiKeyUsed?: (clientId: string, keyId: string) => void;
  /** verified local-token signatures, one cache for every config version (a cache per reload cost ~1.5 MiB) */
  verifiedTokens?: VerifiedTokenCache;
  /** decoded headers and payloads of accepted tokens (peek-cache.ts), shared across reloads */
  peeks?: PeekCache;
  /** longest local-token lifetime accepted, across reloads that lowered access_token_ttl */
  accessTtl?: AccessTtlCeiling;
}

/** Everything built from one config version; a reload builds a new one and swaps it atomically. */
export interface Runtime {
  compiled: CompiledConfig;
  auth: AuthContext;
  forwarders: ReadonlyMap<string, Forwarder>;
  challenge: ChallengeContext;
  close(): void;
}

/**
 * `currentCompiled` lets local-token verification see clients created through the admin API after this runtime was
 * built (`withClients` swaps only the compiled tables, keeping caches and forwarders).
 */
export function buildRuntime(
  compiled: CompiledConfig,
  services: Services,
  withForwarders = true,
  currentCompiled: () => CompiledConfig = () => compiled,
): Runtime {
  const { config } = compiled;
  // every secret check of this config version costs one scrypt of the same parameters (client-secret-verifier.ts)
  services.clientSecrets.prepare(compiled.clients.values());
  const bearer: BearerAuthenticator[] = [];
  if (config.issuer && services.keys) {
    bearer.push(
      new LocalTokenAuthenticator(
        { compiled: currentCompiled, store: services.store, keys: services.keys, now: services.now },
        // one revocation cache per process, so a revoke through this instance applies at once
        {
          clientStates: services.clientStates,
          verified: services.verifiedTokens,
          maxLifetimeMs: services.accessTtl && ((now: number) => services.accessTtl!.maxLifetimeMs(now)),
        },
      ),
    );
  }
  if (config.trusted_issuers.length > 0) bearer.push(new TrustedIssuerAuthenticator(config.trusted_issuers));
  if (config.introspection) {
    // The gateway's own credentials are refused before anything is sent to the third-party endpoint.
    bearer.push(
      new OwnCredentialGuard({
        hashes: ownCredentialHashes(config, adminTokenHashes(config)),
        isApiKeyHash: (hash) => currentCompiled().apiKeys.has(hash),
        isVerifiedSecret: (token) => services.clientSecrets.isVerifiedSecret(token),
        isLegacyRefreshToken: async (token) =>
          (await services.store.findRefreshToken(hashRefreshToken(token))) !== undefined,
      }),
    );
    bearer.push(new IntrospectionAuthenticator(config.introspection));
  }

  const forwarders = new Map<string, Forwarder>();
  if (withForwarders)
    for (const [name, up] of Object.entries(config.upstreams)) forwarders.set(name, new Forwarder(up.url, up.timeout));

  return {
    compiled,
    auth: {
      compiled,
      bearer,
      clientSecrets: services.clientSecrets,
      clientStates: services.clientStates,
      now: services.now,
      peeks: services.peeks,
      onApiKeyUsed: services.onApiKeyUsed,
    },
    forwarders,
    challenge: { realm: config.server.realm, resourceMetadata: compiled.resourceMetadataUrl },
    close() {
      for (const b of bearer) b.close?.();
      for (const f of forwarders.values()) f.close();
    },
  };
}

/** The same runtime with other client tables (a client created, changed or deleted through the admin API). */
export function withClients(runtime: Runtime, compiled: CompiledConfig): Runtime {
  return { ...runtime, compiled, auth: { ...runtime.auth, compiled } };
}
