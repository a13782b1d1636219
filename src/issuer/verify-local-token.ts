/**
 * Verifies access tokens of the local issuer on every gateway request. Signature checks are cached by the
 * token's SHA-256 (bounded, never past `exp`); the time checks and the store checks (client revoked or expired,
 * token issued before a revocation, jti revoked) run on every call, through a client-state cache of at most
 * 250 ms, so a revocation on any instance sharing the store applies within a second.
 */
import type { LRUCache } from 'lru-cache';
import type { BearerAuthenticator, JwtPeek } from '../auth/bearer-authenticator.js';
import { tokenCache } from '../auth/cache-bounds.js';
import { isCanonicalCompactJws } from '../auth/canonical-jws.js';
import { clientInactiveReason, issuedBeforeRevocation } from '../auth/client-check.js';
import { localIssuerOf, type Identity } from '../auth/identity.js';
import { tokenHash } from '../auth/peek-jwt.js';
import { scopesFromClaims } from '../auth/scope-claims.js';
import type { ClientConfig, IssuerConfig } from '../config/schema.js';
import { invalidToken, OAuthError, storeUnavailable } from '../errors/oauth-error.js';
import { ClientStateCache } from '../store/client-state-cache.js';
import type { ClientState } from '../store/store.js';
import { nowOf, type IssuerDeps } from './issuer-deps.js';
import { CLOCK_TOLERANCE_S, verifyLocalJwt, type LocalClaims } from './local-jwt.js';

export interface LocalTokenAuthenticatorOptions {
  /** shared with the rest of the gateway so a local revoke can invalidate it; default: a private 250 ms cache */
  clientStates?: ClientStateCache;
  /** most verified signatures kept (default 50 000); ignored when `verified` is given */
  maxCachedTokens?: number;
  /**
   * verified signatures, shared across reloads (the gateway keeps one per process: a cache per reload cost ~1.5 MiB
   * each); entries name the issuer, audience and key they were verified against, so a changed config misses them
   */
  verified?: VerifiedTokenCache;
  /** longest token lifetime accepted now (ms); default `access_token_ttl` (see access-ttl-ceiling.ts) */
  maxLifetimeMs?: (now: number) => number;
}

export type VerifiedTokenCache = LRUCache<string, Verified>;

/** The verified-signature cache: bounded, and no entry outlives its token (STYLE.md "Caches are bounded"). */
export function createVerifiedTokenCache(max = 50_000): VerifiedTokenCache {
  // bounded by entries and by bytes (cache-bounds.ts): a flood of distinct valid tokens cannot grow the heap
  return tokenCache<Verified>({ max, measure: (v) => v.claims, ttl: 60_000 });
}

export interface Verified {
  claims: LocalClaims;
  /** the issuer identifier and key set it was verified against; a reload or key change invalidates the entry */
  issuer: string;
  audience: string;
  kid: string;
}

/** The `iat`/`exp`/`nbf` and lifetime rules (SPEC.md 3): 30 s leeway, and no longer than `access_token_ttl`. */
export function checkTokenTimes(
  claims: LocalClaims,
  issuer: IssuerConfig,
  now: number,
  maxLifetimeMs = issuer.access_token_ttl,
): void {
  const nowS = now / 1000;
  if (claims.exp <= nowS - CLOCK_TOLERANCE_S) throw invalidToken('the token has expired', 'token_expired');
  if (typeof claims.nbf === 'number' && claims.nbf > nowS + CLOCK_TOLERANCE_S) {
    throw invalidToken('token is not valid yet', 'token_not_yet_valid');
  }
  if (claims.iat > nowS + CLOCK_TOLERANCE_S) throw invalidToken('token issued in the future', 'iat_in_future');
  if (claims.exp - claims.iat > maxLifetimeMs / 1000 + CLOCK_TOLERANCE_S) {
    throw invalidToken('token lives longer than this issuer allows', 'lifetime_too_long');
  }
}

export class LocalTokenAuthenticator implements BearerAuthenticator {
  readonly name = 'local';
  private readonly verified: VerifiedTokenCache;
  private readonly ownsVerified: boolean;
  private readonly clientStates: ClientStateCache;
  private readonly maxLifetimeMs: ((now: number) => number) | undefined;

  constructor(
    private readonly deps: Pick<IssuerDeps, 'compiled' | 'store' | 'keys' | 'now'>,
    options: LocalTokenAuthenticatorOptions = {},
  ) {
    this.ownsVerified = options.verified === undefined;
    this.verified = options.verified ?? createVerifiedTokenCache(options.maxCachedTokens);
    this.clientStates = options.clientStates ?? new ClientStateCache(deps.store, 250);
    this.maxLifetimeMs = options.maxLifetimeMs;
  }

  /** Owns a token whose unverified `iss` is the local issuer's; anything else is "not mine". */
  async authenticate(token: string, peek: JwtPeek | undefined): Promise<Identity | undefined> {
    const compiled = this.deps.compiled();
    const issuer = compiled.config.issuer;
    if (!issuer || !peek || peek.payload.iss !== issuer.issuer) return undefined;
    const now = nowOf(this.deps);
    const claims = await this.verifySignature(token, peek, issuer, now);
    checkTokenTimes(claims, issuer, now, this.maxLifetimeMs?.(now));

    const client = compiled.clients.get(claims.client_id);
    if (!client) throw invalidToken('the client of this token no longer exists', 'unknown_client');
    await this.checkStore(claims, client, now);

    // Config is the upper bound: scopes or tenants taken from the client since issuance are gone at once.
    const allowed = new Set(client.scopes);
    const scopes = scopesFromClaims(claims).filter((s) => allowed.has(s));
    const tenant = typeof claims.tenant === 'string' ? claims.tenant : undefined;
    if (tenant !== undefined && !(client.tenants ?? []).includes(tenant)) {
      throw invalidToken('the client may no longer act for this tenant', 'tenant_removed');
    }
    return {
      clientId: client.id,
      scopes,
      ...(tenant !== undefined ? { tenant } : {}),
      method: 'bearer',
      issuer: localIssuerOf(compiled.config),
      subject: typeof claims.sub === 'string' ? claims.sub : undefined,
      tokenId: claims.jti,
      issuedAt: claims.iat * 1000,
      expiresAt: claims.exp * 1000,
    };
  }

  close(): void {
    if (this.ownsVerified) this.verified.clear();
  }

  private async verifySignature(token: string, peek: JwtPeek, issuer: IssuerConfig, now: number): Promise<LocalClaims> {
    const key = peek.hash ?? tokenHash(token);
    const kid = peek.header.kid;
    const hit = this.verified.get(key);
    if (hit && hit.issuer === issuer.issuer && hit.audience === issuer.audience && hit.kid === kid) {
      if (this.deps.keys.verify.has(hit.kid)) return hit.claims;
    }
    // Checked before a signature is verified and cached: a hit is this exact text (same SHA-256), checked then.
    if (!isCanonicalCompactJws(token)) throw invalidToken('the token is not unpadded base64url', 'non_canonical_jws');
    const claims = await verifyLocalJwt(token, kid, this.deps.keys, issuer, now);
    const ttl = Math.min(claims.exp * 1000 - now, issuer.access_token_ttl + CLOCK_TOLERANCE_S * 1000);
    if (ttl > 0)
      this.verified.set(key, { claims, issuer: issuer.issuer, audience: issuer.audience, kid: kid as string }, { ttl });
    return claims;
  }

  /** Revocation state, read on every call (through the short client-state cache); fails closed with 503. */
  private async checkStore(claims: LocalClaims, client: ClientConfig, now: number): Promise<void> {
    let state: ClientState;
    let revoked: boolean;
    try {
      state = await this.clientStates.get(client.id);
      revoked = await this.clientStates.isTokenRevoked(claims.jti);
    } catch (err) {
      if (err instanceof OAuthError) throw err;
      throw storeUnavailable('token state cannot be checked right now');
    }
    const inactive = clientInactiveReason(client, state, now);
    if (inactive)
      throw invalidToken(inactive === 'client_revoked' ? 'client access was revoked' : 'client expired', inactive);
    // `iat` has second precision: a token dated to the very millisecond of the revocation may predate it, so it
    // counts as revoked too (mintAccessToken dates tokens minted after a revocation to a later second).
    if (issuedBeforeRevocation(state, claims.iat * 1000) || claims.iat * 1000 === state.notBefore) {
      throw invalidToken('token was revoked', 'token_revoked');
    }
    if (revoked) throw invalidToken('token was revoked', 'token_revoked');
  }
}
