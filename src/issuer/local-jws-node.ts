/**
 * The local token's signature and claims checked with node:crypto on a `KeyObject`, for the one shape the local
 * issuer signs (compact, canonical base64url, no `crit`). jose 6 verifies through WebCrypto, which imports and
 * checks the key on every call: 155 us of CPU per ES256 token on the bench machine against 70 us here
 * (docs/performance.md, "What moved the numbers in this round"), and every distinct token pays it. The checks are jose's `jwtVerify` with the options
 * verifyLocalJwt passes, in jose's order and with the same OAuth reasons; a property test holds the two equal
 * (test/issuer/local-jws-node.property.test.ts). Anything else (a `crit` header, say) is left to jose.
 */
import { constants, createPublicKey, verify, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { JWK, JWTPayload } from 'jose';
import { isCanonicalCompactJws } from '../auth/canonical-jws.js';
import type { IssuerConfig } from '../config/schema.js';
import { invalidToken, type OAuthError } from '../errors/oauth-error.js';

/** How node:crypto verifies one JWS `alg` (RFC 7518 3.1, RFC 8037 3.1). */
interface Scheme {
  digest: string | null;
  padding?: number;
  saltLength?: number;
  dsaEncoding?: 'ieee-p1363';
}

const SCHEMES: Readonly<Record<string, Scheme>> = {
  // RFC 7518 3.4: the signature is R || S, not DER
  ES256: { digest: 'sha256', dsaEncoding: 'ieee-p1363' },
  ES384: { digest: 'sha384', dsaEncoding: 'ieee-p1363' },
  ES512: { digest: 'sha512', dsaEncoding: 'ieee-p1363' },
  RS256: { digest: 'sha256' },
  RS384: { digest: 'sha384' },
  RS512: { digest: 'sha512' },
  // RFC 7518 3.5: the salt is as long as the hash
  PS256: { digest: 'sha256', padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST },
  PS384: { digest: 'sha384', padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST },
  PS512: { digest: 'sha512', padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST },
  EdDSA: { digest: null },
  Ed25519: { digest: null },
};

/** A public key ready for node:crypto, or undefined when this alg or key is left to jose. */
export interface NodeVerifier {
  alg: string;
  key: KeyObject;
  scheme: Scheme;
}

/**
 * The node:crypto verifier of a public JWK, or undefined for algs not listed and for RSA keys under 2048 bits
 * (jose refuses those at verify time; they stay on jose's path so the answer is the same).
 */
export function nodeVerifierOf(publicJwk: JWK, alg: string): NodeVerifier | undefined {
  const scheme = SCHEMES[alg];
  if (!scheme) return undefined;
  const key = createPublicKey({ key: publicJwk as JsonWebKey, format: 'jwk' });
  const bits = key.asymmetricKeyDetails?.modulusLength;
  if (key.asymmetricKeyType?.startsWith('rsa') && (bits === undefined || bits < 2048)) return undefined;
  return { alg, key, scheme };
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** JSON.parse of a base64url segment, when it is a plain object (jose's isObject); undefined otherwise. */
function jsonObject(segment: string): Record<string, unknown> | undefined {
  let value: unknown;
  try {
    value = JSON.parse(strictUtf8.decode(Buffer.from(segment, 'base64url')));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  return value as Record<string, unknown>;
}

/** jose's typ comparison: case-insensitive, `application/` implied (RFC 7515 4.1.9). */
const normalizeTyp = (typ: string) => (typ.includes('/') ? typ.toLowerCase() : `application/${typ.toLowerCase()}`);

/** jose checks presence in this order: issuer, audience, then the required claims from last to first. */
const PRESENCE_ORDER = ['iss', 'aud', 'client_id', 'jti', 'iat', 'exp', 'sub'] as const;

const missingClaim = (claim: string): OAuthError =>
  claim === 'iss'
    ? invalidToken('the token issuer is not accepted', 'wrong_issuer')
    : claim === 'aud'
      ? invalidToken('the token is not meant for this API', 'wrong_audience')
      : invalidToken(`the token claim "${claim}" is invalid`, 'invalid_claims');

/**
 * Verifies like jose's `jwtVerify(token, key, { algorithms: [alg], typ: 'at+jwt', issuer, audience, clockTolerance,
 * currentDate, requiredClaims })`, or answers `undefined` when the token is not the plain shape this handles (jose
 * decides those). Throws the OAuthError joseErrorToOAuth would map jose's error to.
 */
export function verifyLocalJwsNode(
  token: string,
  verifier: NodeVerifier,
  issuer: IssuerConfig,
  now: number,
  clockToleranceS: number,
): JWTPayload | undefined {
  if (!isCanonicalCompactJws(token)) return undefined;
  const [h, p, s] = token.split('.') as [string, string, string];
  const header = jsonObject(h);
  if (!header) throw invalidToken('the token is malformed', 'malformed_token');
  if (header.crit !== undefined) return undefined;
  if (typeof header.alg !== 'string' || header.alg === '')
    throw invalidToken('the token is malformed', 'malformed_token');
  if (header.alg !== verifier.alg) throw invalidToken('the token algorithm is not allowed', 'algorithm_not_allowed');

  const { digest, ...options } = verifier.scheme;
  let valid = false;
  try {
    valid = verify(
      digest,
      Buffer.from(`${h}.${p}`, 'latin1'),
      { key: verifier.key, ...options },
      Buffer.from(s, 'base64url'),
    );
  } catch {
    valid = false;
  }
  if (!valid) throw invalidToken('the token signature is invalid', 'bad_signature');

  const claims = jsonObject(p);
  if (!claims) throw invalidToken('the token is malformed', 'malformed_token');
  if (typeof header.typ !== 'string' || normalizeTyp(header.typ) !== 'application/at+jwt') {
    throw invalidToken('not an access token (typ must be at+jwt)', 'wrong_type');
  }
  for (const claim of PRESENCE_ORDER) if (!Object.hasOwn(claims, claim)) throw missingClaim(claim);
  if (claims.iss !== issuer.issuer) throw missingClaim('iss');
  const aud = claims.aud;
  if (typeof aud === 'string' ? aud !== issuer.audience : !(Array.isArray(aud) && aud.includes(issuer.audience))) {
    throw missingClaim('aud');
  }
  const nowS = Math.floor(now / 1000);
  if (typeof claims.iat !== 'number') throw missingClaim('iat');
  const nbf = claims.nbf;
  if (nbf !== undefined && (typeof nbf !== 'number' || nbf > nowS + clockToleranceS)) {
    throw invalidToken('the token is not valid yet', 'token_not_yet_valid');
  }
  if (typeof claims.exp !== 'number') throw missingClaim('exp');
  if (claims.exp <= nowS - clockToleranceS) throw invalidToken('the token has expired', 'token_expired');
  return claims as JWTPayload;
}
