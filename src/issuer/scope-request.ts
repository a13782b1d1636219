/**
 * What a token request may be granted (RFC 6749 3.3, 6): the requested scope must be a subset of what the client
 * (or, on refresh, the refresh token) holds, and the tenant must be one the client may act for. Pure functions.
 */
import { invalidScope, tokenInvalidRequest } from './token-errors.js';

const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;
const TENANT = /^[A-Za-z0-9._~-]+$/;

/** What the grant allows before the request narrows it. */
export interface GrantBase {
  scopes: readonly string[];
  /** tenant already bound (a refresh token's) */
  tenant?: string;
  /** tenants that may be bound; undefined = the client has no tenant binding at all */
  tenants?: readonly string[];
}

export interface GrantedScope {
  scopes: string[];
  tenant?: string;
}

/** RFC 6749 3.3: `scope = scope-token *( SP scope-token )`; a malformed value is invalid_scope. Duplicates collapse. */
export function parseScopeParam(value: string): string[] {
  const tokens = value.split(' ');
  if (!tokens.every((t) => SCOPE_TOKEN.test(t))) {
    throw invalidScope('scope must be scope tokens separated by single spaces', 'malformed_scope');
  }
  return [...new Set(tokens)];
}

/**
 * Narrows `base` by the request. Without `scope`, everything in `base` is granted (RFC 6749 6: "treated as equal
 * to the scope originally granted"); with it, the granted scopes are exactly the requested ones, in request order,
 * so the response's `scope` equals the request's (requests-oauthlib compares them).
 */
export function resolveGrant(
  base: GrantBase,
  requestedScope: string | undefined,
  requestedTenant: string | undefined,
  tenantParameter: string,
): GrantedScope {
  let scopes = [...base.scopes];
  if (requestedScope !== undefined) {
    const requested = parseScopeParam(requestedScope);
    const allowed = new Set(base.scopes);
    const extra = requested.filter((s) => !allowed.has(s));
    if (extra.length > 0)
      throw invalidScope(`scope not granted to this client: ${extra.join(' ')}`, 'scope_not_allowed');
    scopes = requested;
  }
  let tenant = base.tenant;
  if (requestedTenant !== undefined) {
    if (base.tenants === undefined) {
      throw tokenInvalidRequest(
        `this client is not bound to tenants; omit ${tenantParameter}`,
        'tenant_not_applicable',
      );
    }
    if (!TENANT.test(requestedTenant)) throw tokenInvalidRequest(`${tenantParameter} is malformed`, 'malformed_tenant');
    if (!base.tenants.includes(requestedTenant) || (base.tenant !== undefined && base.tenant !== requestedTenant)) {
      throw invalidScope(`this client may not act for this ${tenantParameter}`, 'tenant_not_allowed');
    }
    tenant = requestedTenant;
  }
  return tenant === undefined ? { scopes } : { scopes, tenant };
}
