import type { JSONWebKeySet } from 'jose';

/** Members that only a private or secret key has (RFC 7518 6.2.2, 6.3.2, 6.4.1; RFC 8037 2). */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k', 'priv'];
/** Asymmetric key types that can verify the algorithms a trusted issuer may allow (RSA, EC, OKP for EdDSA). */
const PUBLIC_KTY = new Set(['RSA', 'EC', 'OKP']);
const KEY_MEMBER_MAX = 8192;

function isPublicSigningKey(key: unknown): key is Record<string, unknown> {
  if (key === null || typeof key !== 'object' || Array.isArray(key)) return false;
  const jwk = key as Record<string, unknown>;
  if (typeof jwk.kty !== 'string' || !PUBLIC_KTY.has(jwk.kty)) return false;
  if (PRIVATE_MEMBERS.some((m) => Object.hasOwn(jwk, m))) return false;
  if (jwk.use !== undefined && jwk.use !== 'sig') return false;
  if (jwk.kid !== undefined && typeof jwk.kid !== 'string') return false;
  if (jwk.alg !== undefined && typeof jwk.alg !== 'string') return false;
  // a member this long is garbage, not a key
  return Object.values(jwk).every((v) => typeof v !== 'string' || v.length <= KEY_MEMBER_MAX);
}

/**
 * The usable part of a JWKS answer (RFC 7517 5): public asymmetric signing keys only, at most `maxKeys`. Keys with
 * private members, symmetric (`oct`) keys and encryption keys are dropped: a published secret can never become a
 * verification key. Returns undefined when the answer is not a key set or holds no usable key, so the caller keeps
 * its last good set.
 */
export function publicSigningKeys(
  answer: Readonly<Record<string, unknown>>,
  maxKeys: number,
): JSONWebKeySet | undefined {
  const keys = Object.hasOwn(answer, 'keys') ? answer.keys : undefined;
  if (!Array.isArray(keys)) return undefined;
  const usable = keys.filter(isPublicSigningKey).slice(0, maxKeys);
  if (usable.length === 0) return undefined;
  // certificate chains are not needed to verify a JWS and only make the cached set heavier
  return { keys: usable.map(({ x5c: _x5c, ...rest }) => rest) } as JSONWebKeySet;
}
