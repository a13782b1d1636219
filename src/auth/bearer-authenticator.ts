import type { Identity } from './identity.js';

/** An unverified look at a compact JWS, only to choose which authenticator owns it. */
export interface JwtPeek {
  header: Readonly<Record<string, unknown>>;
  payload: Readonly<Record<string, unknown>>;
  /** the three segments are exactly unpadded base64url (canonical-jws.ts); a token that is not is refused */
  canonical: boolean;
  /** the token's SHA-256 (base64url, `tokenHash`) when already computed: the key of every per-token cache */
  hash?: string;
}

/**
 * One way of accepting a Bearer token (local issuer, a trusted issuer, introspection). Like Oathkeeper's
 * authenticators, each may say "not mine" (resolve undefined) so the next one tries; a token it owns but rejects
 * throws an OAuthError (401 invalid_token, or 503 when a dependency is down).
 */
export interface BearerAuthenticator {
  readonly name: string;
  authenticate(token: string, peek: JwtPeek | undefined): Promise<Identity | undefined>;
  close?(): void;
}
