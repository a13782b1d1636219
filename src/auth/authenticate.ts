import type { CompiledConfig } from '../config/compile-config.js';
import type { AuthMethod } from '../config/schema.js';
import { invalidClientCredentials, invalidToken, missingCredentials } from '../errors/oauth-error.js';
import type { ClientStateCache } from '../store/client-state-cache.js';
import type { BearerAuthenticator } from './bearer-authenticator.js';
import { clientInactiveReason } from './client-check.js';
import type { ClientSecretVerifier } from './client-secret-verifier.js';
import { localIssuerOf, type Credential, type Identity } from './identity.js';
import type { PeekCache } from './peek-cache.js';
import { peekJwt, tokenHash } from './peek-jwt.js';
import { hashApiKey } from './secret-hash.js';

export interface AuthContext {
  compiled: CompiledConfig;
  /** tried in order; each may say "not mine" */
  bearer: readonly BearerAuthenticator[];
  clientSecrets: ClientSecretVerifier;
  clientStates: ClientStateCache;
  now: () => number;
  /** decoded tokens that were accepted, by SHA-256 (peek-cache.ts); without it every request decodes */
  peeks?: PeekCache;
  /** told which API key of a store client was used (for its last_used_at); best effort */
  onApiKeyUsed?: (clientId: string, keyId: string) => void;
}

/** A failed credential check, for the failed-auth rate limit: which client id was claimed, if any. */
export class CredentialRejected {
  constructor(readonly clientId: string | undefined) {}
}

/**
 * Verifies the one credential of a request and returns who is calling. Throws an OAuthError (401, or 503 when a
 * dependency such as introspection is down); the error's `cause` is a CredentialRejected for failed checks.
 */
export async function authenticate(
  credential: Credential,
  accepted: ReadonlySet<AuthMethod>,
  ctx: AuthContext,
): Promise<Identity> {
  if (credential.kind === 'none') throw missingCredentials();
  if (!accepted.has(credential.kind)) {
    throw invalidToken(
      `${credential.kind.replace('_', ' ')} credentials are not accepted on this route`,
      'method_not_accepted',
    );
  }
  switch (credential.kind) {
    case 'bearer':
      return authenticateBearer(credential.token, ctx);
    case 'api_key':
      return authenticateApiKey(credential.key, ctx);
    case 'client_secret':
      return authenticateClientSecret(credential.clientId, credential.secret, ctx);
  }
}

async function authenticateBearer(token: string, ctx: AuthContext): Promise<Identity> {
  const hash = tokenHash(token);
  const cached = ctx.peeks?.get(hash);
  const peek = cached ?? peekJwt(token, hash);
  if (peek && !peek.canonical) {
    // RFC 7515 7.1: one spelling per token, so no cache or deny list keyed on the token text can be sidestepped.
    throw rejected(invalidToken('the token is not unpadded base64url', 'non_canonical_jws'), undefined);
  }
  for (const authenticator of ctx.bearer) {
    const identity = await authenticator.authenticate(token, peek);
    if (identity) {
      if (peek && !cached) ctx.peeks?.set(hash, peek);
      return identity;
    }
  }
  throw rejected(invalidToken(peek ? 'token issuer is not trusted' : 'unknown token', 'unknown_token'), undefined);
}

async function authenticateApiKey(key: string, ctx: AuthContext): Promise<Identity> {
  // O(1) by hash: keys are random with >= 128 bits, so a fast hash is safe here (SPEC.md 1, hash-secret --api-key).
  const entry = ctx.compiled.apiKeys.get(hashApiKey(key));
  const client = entry && ctx.compiled.clients.get(entry.clientId);
  if (!entry || !client) throw rejected(invalidToken('unknown API key', 'unknown_api_key'), undefined);
  // An expired key is refused like an unknown one (SPEC.md 10).
  if (entry.expiresAt !== undefined && ctx.now() >= entry.expiresAt)
    throw rejected(invalidToken('unknown API key', 'api_key_expired'), undefined);
  const reason = clientInactiveReason(client, await ctx.clientStates.get(client.id), ctx.now());
  if (reason) throw rejected(invalidToken('API key is no longer valid', reason), client.id);
  if (entry.id !== undefined) ctx.onApiKeyUsed?.(client.id, entry.id);
  return {
    clientId: client.id,
    scopes: entry.scopes,
    tenants: client.tenants,
    method: 'api_key',
    issuer: localIssuerOf(ctx.compiled.config),
  };
}

async function authenticateClientSecret(clientId: string, secret: string, ctx: AuthContext): Promise<Identity> {
  const client = await ctx.clientSecrets.verify(ctx.compiled.clients.get(clientId), clientId, secret, ctx.now());
  if (!client) throw rejected(invalidClientCredentials(), clientId);
  const reason = clientInactiveReason(client, await ctx.clientStates.get(client.id), ctx.now());
  if (reason) throw rejected(invalidClientCredentials('client authentication failed', reason), clientId);
  return {
    clientId: client.id,
    scopes: client.scopes,
    tenants: client.tenants,
    method: 'client_secret',
    issuer: localIssuerOf(ctx.compiled.config),
  };
}

function rejected<E extends Error>(err: E, clientId: string | undefined): E {
  (err as Error & { cause?: unknown }).cause = new CredentialRejected(clientId);
  return err;
}
