/**
 * Only access tokens are access tokens (RFC 8725 3.11, RFC 9068 4; THREATS.md "Whose identity is it"): an issuer
 * signs ID tokens, logout tokens and other security event tokens with the same keys as its access tokens, so the
 * signature alone does not say what a JWT is for. These checks tell the kinds apart, by header and by payload.
 */

/** The `token_types` entry that accepts a JWS without a `typ` header. */
export const ABSENT_TYP = 'absent';

/**
 * RFC 7515 4.1.9: `typ` is a media type compared case-insensitively, and `application/` may be omitted when no other
 * `/` follows. `application/at+JWT` and `at+jwt` are one value.
 */
export function normalizeTyp(typ: string): string {
  const lower = typ.toLowerCase();
  const rest = lower.startsWith('application/') ? lower.slice('application/'.length) : lower;
  return rest.includes('/') ? lower : rest;
}

/** Whether a header `typ` (any JSON value, or undefined when absent) is one of the accepted token types. */
export function typAccepted(typ: unknown, accepted: readonly string[]): boolean {
  if (typ === undefined) return accepted.includes(ABSENT_TYP);
  if (typeof typ !== 'string') return false;
  const wanted = normalizeTyp(typ);
  return accepted.some((a) => a !== ABSENT_TYP && normalizeTyp(a) === wanted);
}

/** Payload `typ` values of tokens that are not access tokens (Keycloak: `ID`, `Refresh`, `Offline`, `Logout`). */
const OTHER_KINDS = new Set(['id', 'id_token', 'idtoken', 'refresh', 'refresh_token', 'offline', 'logout']);

/**
 * Claims that only other kinds of JWT carry:
 * - `nonce`, `at_hash`, `c_hash`: OpenID Connect Core 2 and 3.1.3.6 define them for ID tokens; RFC 9068 access
 *   tokens never carry them, so any one of them (`nonce` alone too) marks an ID token;
 * - `events`: RFC 8417 2.2 security event tokens, OIDC back-channel logout tokens among them;
 * - `token_use` other than `access` (Amazon Cognito: `id`);
 * - a payload `typ` of an ID, refresh or logout token (Keycloak).
 * Returns the marker found, or undefined for a payload that may be an access token.
 */
export function otherKindMarker(payload: Readonly<Record<string, unknown>>): string | undefined {
  for (const claim of ['nonce', 'at_hash', 'c_hash', 'events']) if (Object.hasOwn(payload, claim)) return claim;
  const use = Object.hasOwn(payload, 'token_use') ? payload.token_use : undefined;
  if (use !== undefined && use !== 'access') return 'token_use';
  const typ = Object.hasOwn(payload, 'typ') ? payload.typ : undefined;
  if (typeof typ === 'string' && OTHER_KINDS.has(typ.toLowerCase())) return 'typ';
  return undefined;
}
