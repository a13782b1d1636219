/**
 * Signature and claim checks of a local access token, mapped to OAuth errors in one place. The key comes only from
 * the local key set by `kid` (never from the token: `jwk`, `jku`, `x5u`, `x5c` are ignored), and the algorithm
 * allowed is that key's own, so neither `none` nor HMAC keyed with a public key can pass.
 */
import { jwtVerify, type JWTPayload } from 'jose';
import type { IssuerConfig } from '../config/schema.js';
import { joseErrorToOAuth } from '../auth/jose-errors.js';
import { invalidToken } from '../errors/oauth-error.js';
import type { KeySet, VerifyKey } from './keys.js';
import { verifyLocalJwsNode } from './local-jws-node.js';

/** RFC 9068 2.2 plus our own: what a local access token must carry. */
export const REQUIRED_CLAIMS = ['iss', 'sub', 'aud', 'exp', 'iat', 'jti', 'client_id'] as const;

export const CLOCK_TOLERANCE_S = 30;

/** Our kids are RFC 7638 thumbprints (43 characters); a longer one cannot be ours and triggers no key reload. */
const MAX_KID_LENGTH = 256;

export interface LocalClaims extends JWTPayload {
  exp: number;
  iat: number;
  jti: string;
  client_id: string;
}

/** Verifies signature, `typ`, `iss`, `aud`, `exp`/`nbf` (30 s leeway) and the presence and types of claims. */
export async function verifyLocalJwt(
  token: string,
  kid: unknown,
  keys: KeySet,
  issuer: IssuerConfig,
  now: number,
): Promise<LocalClaims> {
  let entry = typeof kid === 'string' ? keys.verify.get(kid) : undefined;
  // A key added to a shared folder on another instance: re-read the folder (bounded by the key ring's cool-down).
  if (!entry && typeof kid === 'string' && kid.length <= MAX_KID_LENGTH && (await keys.refreshForKid?.(kid))) {
    entry = keys.verify.get(kid);
  }
  if (!entry) throw invalidToken('token signed with an unknown key', 'unknown_kid');
  let payload: JWTPayload | undefined = entry.node
    ? verifyLocalJwsNode(token, entry.node, issuer, now, CLOCK_TOLERANCE_S)
    : undefined;
  if (!payload) payload = await verifyWithJose(token, entry, issuer, now);
  if (
    typeof payload.jti !== 'string' ||
    payload.jti === '' ||
    typeof payload.client_id !== 'string' ||
    typeof payload.iat !== 'number' ||
    typeof payload.exp !== 'number'
  ) {
    throw invalidToken('token lacks required claims', 'missing_claims');
  }
  return payload as LocalClaims;
}

/** The general path: jose, for keys and token shapes local-jws-node.ts leaves alone. */
async function verifyWithJose(token: string, entry: VerifyKey, issuer: IssuerConfig, now: number): Promise<JWTPayload> {
  try {
    const { payload } = await jwtVerify(token, entry.key, {
      algorithms: [entry.alg],
      typ: 'at+jwt',
      issuer: issuer.issuer,
      audience: issuer.audience,
      clockTolerance: CLOCK_TOLERANCE_S,
      currentDate: new Date(now),
      requiredClaims: [...REQUIRED_CLAIMS],
    });
    return payload;
  } catch (err) {
    throw joseErrorToOAuth(err);
  }
}
