/**
 * Reading scopes out of token claims (SPEC.md 3): `scope` must be a space-delimited string (RFC 8693 4.2,
 * RFC 9068 2.2.3); `scp` may be a string or an array of strings; a named `scope_claim` follows the same rules.
 * Any other type grants nothing. Tokens are split on single spaces and compared exactly.
 */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

/** Splits a scope string on single spaces; empty pieces (double spaces) and invalid tokens grant nothing. */
export function parseScopeString(value: string): string[] {
  return value.split(' ').filter((s) => SCOPE_TOKEN.test(s));
}

function fromClaim(value: unknown, allowArray: boolean): string[] | undefined {
  if (typeof value === 'string') return parseScopeString(value);
  if (allowArray && Array.isArray(value)) {
    return value.every((v) => typeof v === 'string') ? value.flatMap((v: string) => parseScopeString(v)) : [];
  }
  return value === undefined ? undefined : [];
}

/** Scopes granted by a payload; `claim` names a custom claim (string or array), else `scope` then `scp`. */
export function scopesFromClaims(payload: Readonly<Record<string, unknown>>, claim?: string): string[] {
  const own = (name: string): unknown => (Object.hasOwn(payload, name) ? payload[name] : undefined);
  let scopes: string[] | undefined;
  if (claim !== undefined) scopes = fromClaim(own(claim), true);
  else scopes = fromClaim(own('scope'), false) ?? fromClaim(own('scp'), true);
  return [...new Set(scopes ?? [])];
}
