/**
 * Bearer JWTs from external identity providers (SPEC.md 2 `trusted_issuers`, 3; THREATS.md "Tokens"). Like
 * Oathkeeper's `jwt` authenticator it owns a token only when the unverified `iss` names one of its issuers; every
 * other token is "not mine" and falls through to the next authenticator (introspection comes last).
 *
 * A token it owns is verified with that issuer's keys only (keys are bound to their issuer), that issuer's algorithm
 * allow-list (asymmetric only: the config refuses HS*, so a public key can never act as an HMAC secret, and jose
 * refuses `none`), the exact `iss`, the configured `aud`, `exp` (required) and `nbf` with 30 s leeway, and an `iat`
 * at most 30 s in the future. Keys are never taken from the token (`jku`, `x5u`, `jwk`, `x5c` are refused), unknown
 * `crit` extensions are refused by jose, and JWE (five parts) is never accepted where a JWS is expected.
 */
import { decodeProtectedHeader, errors, jwtVerify, type JWTPayload, type JWSHeaderParameters } from 'jose';
import type { LRUCache } from 'lru-cache';
import type { TrustedIssuerConfig } from '../config/schema.js';
import { invalidToken, temporarilyUnavailable } from '../errors/oauth-error.js';
import { isCanonicalCompactJws } from './canonical-jws.js';
import { joseErrorToOAuth } from './jose-errors.js';
import { tokenHash } from './peek-jwt.js';
import type { BearerAuthenticator, JwtPeek } from './bearer-authenticator.js';
import type { Identity } from './identity.js';
import { tokenCache } from './cache-bounds.js';
import { JwksCache, JwksUnavailableError, type JwksCacheOptions, type JwksCacheStats } from './jwks-cache.js';
import { scopesFromClaims } from './scope-claims.js';
import { otherKindMarker, typAccepted } from './token-kind.js';

const LEEWAY_S = 30;
/** Header parameters that carry or point at a key: a token must never choose the key that verifies it. */
const KEY_HEADERS = ['jku', 'x5u', 'jwk', 'x5c'];

export interface TrustedIssuerOptions {
  jwks?: JwksCacheOptions;
  /** verified tokens kept (default 50 000) */
  cacheMax?: number;
  now?: () => number;
}

export interface TrustedIssuerStats {
  cacheHits: number;
  cacheMisses: number;
  issuers: Record<string, JwksCacheStats>;
}

interface Issuer {
  config: TrustedIssuerConfig;
  jwks: JwksCache;
}

interface Cached {
  identity: Identity;
  /** ms; the token's `exp` */
  expiresAt: number;
  issuer: Issuer;
  generation: number;
}

const own = (o: Readonly<Record<string, unknown>>, key: string): unknown =>
  Object.hasOwn(o, key) ? o[key] : undefined;
const nonEmpty = (v: unknown): v is string => typeof v === 'string' && v !== '';

export class TrustedIssuerAuthenticator implements BearerAuthenticator {
  readonly name = 'trusted_issuer';
  private readonly issuers = new Map<string, Issuer>();
  private readonly cache: LRUCache<string, Cached>;
  private readonly now: () => number;
  private hits = 0;
  private misses = 0;

  constructor(configs: readonly TrustedIssuerConfig[], options: TrustedIssuerOptions = {}) {
    this.now = options.now ?? Date.now;
    for (const config of configs) {
      if (this.issuers.has(config.issuer)) throw new Error(`trusted issuer ${config.issuer} is listed twice`);
      this.issuers.set(config.issuer, {
        config,
        jwks: new JwksCache(config.jwks_uri, { now: this.now, ...options.jwks }),
      });
    }
    this.cache = tokenCache<Cached>({ max: options.cacheMax ?? 50_000, measure: (v) => v.identity });
  }

  async authenticate(token: string, peek: JwtPeek | undefined): Promise<Identity | undefined> {
    const iss = peek ? own(peek.payload, 'iss') : undefined;
    const issuer = typeof iss === 'string' ? this.issuers.get(iss) : undefined;
    if (!issuer) return undefined; // not mine

    const key = peek?.hash ?? tokenHash(token);
    const cached = this.cache.get(key);
    if (cached && cached.expiresAt > this.now() && cached.generation === cached.issuer.jwks.generation) {
      this.hits++;
      return cached.identity;
    }
    this.misses++;

    const payload = await this.verify(token, issuer);
    const identity = toIdentity(payload, issuer.config);
    const expiresAt = identity.expiresAt!;
    const ttl = expiresAt - this.now();
    if (ttl > 0) {
      this.cache.set(key, { identity, expiresAt, issuer, generation: issuer.jwks.generation }, { ttl });
    }
    return identity;
  }

  stats(): TrustedIssuerStats {
    const issuers: Record<string, JwksCacheStats> = {};
    for (const [name, { jwks }] of this.issuers) issuers[name] = jwks.stats();
    return { cacheHits: this.hits, cacheMisses: this.misses, issuers };
  }

  close(): void {
    for (const { jwks } of this.issuers.values()) jwks.close();
    this.cache.clear();
  }

  private async verify(token: string, issuer: Issuer): Promise<JWTPayload> {
    // JWE has five parts; only a compact JWS (three) is an access token here.
    if (token.split('.').length !== 3) throw invalidToken('the token is not a signed JWT', 'malformed_token');
    let header: JWSHeaderParameters;
    try {
      header = decodeProtectedHeader(token) as JWSHeaderParameters;
    } catch {
      throw invalidToken('the token header cannot be read', 'malformed_token');
    }
    if (KEY_HEADERS.some((h) => Object.hasOwn(header, h))) {
      throw invalidToken('keys named in the token are not accepted', 'key_in_header');
    }
    // RFC 8725 3.11: the header says which kind of JWT this is; only access token types are accepted here.
    if (!typAccepted(own(header, 'typ'), issuer.config.token_types)) {
      throw invalidToken('the token is not an access token (typ)', 'wrong_token_type');
    }
    const { algorithms } = issuer.config;
    if (typeof header.alg !== 'string' || !(algorithms as readonly string[]).includes(header.alg)) {
      throw invalidToken('the token algorithm is not allowed', 'algorithm_not_allowed');
    }
    // RFC 7515 7.1: one spelling per token (canonical-jws.ts), whatever peek the caller handed in.
    if (!isCanonicalCompactJws(token)) throw invalidToken('the token is not unpadded base64url', 'non_canonical_jws');

    let keys;
    try {
      keys = await issuer.jwks.keysFor(header);
    } catch (err) {
      // Decision: when no key set of this issuer has ever loaded and its JWKS endpoint cannot be reached, we cannot
      // decide whether the token is good. That is our outage, not the caller's fault, so it is 503 (fail closed,
      // retryable) rather than a 401 that would tell a partner its valid token is bad. Once keys were loaded, an
      // outage never gets here: the cached keys keep answering (jwks-cache.ts).
      if (err instanceof JwksUnavailableError) {
        throw temporarilyUnavailable("the token issuer's keys cannot be loaded right now", 'jwks_unavailable');
      }
      throw joseErrorToOAuth(err);
    }

    let lastError: unknown;
    for (const key of keys) {
      try {
        const { payload } = await jwtVerify(token, key, {
          algorithms: [...algorithms],
          issuer: issuer.config.issuer,
          audience: issuer.config.audience,
          clockTolerance: LEEWAY_S,
          requiredClaims: ['exp'],
          currentDate: new Date(this.now()),
        });
        this.checkPayload(payload, issuer.config);
        return payload;
      } catch (err) {
        lastError = err;
        if (!(err instanceof errors.JWSSignatureVerificationFailed)) break;
      }
    }
    throw joseErrorToOAuth(lastError);
  }

  private checkPayload(payload: JWTPayload, config: TrustedIssuerConfig): void {
    const nowS = this.now() / 1000;
    if (typeof payload.iat === 'number' && payload.iat > nowS + LEEWAY_S) {
      throw invalidToken('the token was issued in the future', 'token_issued_in_future');
    }
    if (otherKindMarker(payload) !== undefined) {
      throw invalidToken('the token is not an access token', 'wrong_token_type');
    }
    // A far-future `exp` turns a stolen token into a lasting credential: bound it from now and from `iat`.
    const maxS = config.max_lifetime / 1000 + LEEWAY_S;
    const exp = payload.exp as number;
    if (exp - nowS > maxS || (typeof payload.iat === 'number' && exp - payload.iat > maxS)) {
      throw invalidToken('the token lives longer than this issuer allows', 'lifetime_too_long');
    }
  }
}

function toIdentity(payload: JWTPayload, config: TrustedIssuerConfig): Identity {
  const claims = payload as Readonly<Record<string, unknown>>;
  const clientId = config.client_id_claim
    ? own(claims, config.client_id_claim)
    : [own(claims, 'client_id'), own(claims, 'azp'), own(claims, 'sub')].find(nonEmpty);
  if (!nonEmpty(clientId)) throw invalidToken('the token names no client', 'missing_client_id');
  const tenant = own(claims, config.tenant_claim);
  const sub = own(claims, 'sub');
  const jti = own(claims, 'jti');
  const iat = own(claims, 'iat');
  return Object.freeze({
    clientId,
    scopes: Object.freeze(scopesFromClaims(claims, config.scope_claim)),
    ...(typeof tenant === 'string' && tenant !== '' ? { tenant } : {}),
    method: 'bearer' as const,
    issuer: config.issuer,
    ...(typeof sub === 'string' ? { subject: sub } : {}),
    ...(typeof jti === 'string' ? { tokenId: jti } : {}),
    ...(typeof iat === 'number' ? { issuedAt: iat * 1000 } : {}),
    expiresAt: (payload.exp as number) * 1000,
  });
}
