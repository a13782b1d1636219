import { INTROSPECTION_ISSUER, type Identity } from './identity.js';
import { parseScopeString } from './scope-claims.js';

export type IntrospectionVerdict =
  { active: true; identity: Identity } | { active: false; reason: string; description: string };

const LEEWAY_MS = 30_000;
/** `token_type` / `typ` values of tokens that are not access tokens (a refresh token is never an access token). */
const NOT_ACCESS_TOKEN = new Set(['refresh_token', 'refresh', 'offline', 'id']);

const inactive = (reason: string, description: string): IntrospectionVerdict => ({
  active: false,
  reason,
  description,
});
const nonEmpty = (v: unknown): v is string => typeof v === 'string' && v !== '';

/**
 * Reads an RFC 7662 2.2 answer. Only `"active": true` (the boolean, not the string) is active; an active answer
 * whose token has expired, is not valid yet, is not an access token, names no client or (when an audience is
 * configured) is meant for another API is inactive too. Time members of the wrong type make the answer
 * `malformed`: a wrong shape is a failure of the provider, not a grant.
 */
export function readIntrospection(
  answer: Readonly<Record<string, unknown>>,
  now: number,
  audience?: readonly string[],
): IntrospectionVerdict | 'malformed' {
  const get = (name: string): unknown => (Object.hasOwn(answer, name) ? answer[name] : undefined);
  if (get('active') !== true) return inactive('token_inactive', 'the token is not active');

  const times: Record<'exp' | 'nbf' | 'iat', number | undefined> = { exp: undefined, nbf: undefined, iat: undefined };
  for (const name of ['exp', 'nbf', 'iat'] as const) {
    const value = get(name);
    if (value === undefined || value === null) continue;
    if (typeof value !== 'number' || !Number.isFinite(value)) return 'malformed';
    times[name] = value * 1000;
  }
  if (times.exp !== undefined && times.exp <= now) return inactive('token_expired', 'the token has expired');
  if (times.nbf !== undefined && times.nbf > now + LEEWAY_MS) {
    return inactive('token_not_yet_valid', 'the token is not valid yet');
  }

  for (const name of ['token_type', 'typ']) {
    const value = get(name);
    if (typeof value === 'string' && NOT_ACCESS_TOKEN.has(value.toLowerCase())) {
      return inactive('not_access_token', 'the token is not an access token');
    }
  }

  if (audience) {
    const aud = get('aud');
    const auds = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : [];
    if (!auds.some((a) => typeof a === 'string' && audience.includes(a))) {
      return inactive('wrong_audience', 'the token is not meant for this API');
    }
  }

  const clientId = [get('client_id'), get('sub')].find(nonEmpty);
  if (clientId === undefined) return inactive('missing_client_id', 'the token names no client');

  const scope = get('scope');
  const tenant = get('tenant');
  const sub = get('sub');
  const jti = get('jti');
  const identity: Identity = Object.freeze({
    clientId,
    // RFC 7662 2.2: `scope` is a space-separated string; any other type grants nothing.
    scopes: Object.freeze(typeof scope === 'string' ? [...new Set(parseScopeString(scope))] : []),
    ...(nonEmpty(tenant) ? { tenant } : {}),
    method: 'bearer' as const,
    // Whatever `iss` the provider reports, an introspected identity is never the local issuer's (SPEC.md 6).
    issuer: INTROSPECTION_ISSUER,
    ...(typeof sub === 'string' ? { subject: sub } : {}),
    ...(typeof jti === 'string' ? { tokenId: jti } : {}),
    ...(times.iat !== undefined ? { issuedAt: times.iat } : {}),
    ...(times.exp !== undefined ? { expiresAt: times.exp } : {}),
  });
  return { active: true, identity };
}
