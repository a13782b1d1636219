import type { Identity } from '../auth/identity.js';
import type { CompiledRoute } from '../config/compile-config.js';
import type { ScopeRequirement } from '../config/requirements.js';

export type AuthzDecision =
  | { allow: true; /** the organization the request acts for, forwarded as X-Auth-Tenant */ tenant?: string }
  | { allow: false; reason: 'insufficient_scope' | 'tenant_mismatch'; description: string; scope?: readonly string[] };

export function hasScopes(granted: readonly string[], requirement: ScopeRequirement): boolean {
  if (requirement.mode === 'any') return requirement.scopes.some((s) => granted.includes(s));
  return requirement.scopes.every((s) => granted.includes(s));
}

/**
 * Scopes and tenant -> allow or deny(reason): a pure function of the caller, the route and the path parameters.
 * On a `tenant_param` route a token's `tenant` claim must equal the path value; an API-key or client-secret caller
 * passes where the value is one of its client's tenants.
 */
export function authorize(
  identity: Identity,
  route: CompiledRoute,
  requirement: ScopeRequirement,
  params: Readonly<Record<string, string>>,
): AuthzDecision {
  if (!hasScopes(identity.scopes, requirement)) {
    const what = requirement.mode === 'any' ? 'one of' : 'all of';
    return {
      allow: false,
      reason: 'insufficient_scope',
      description: `this request needs ${what}: ${requirement.scopes.join(' ')}`,
      scope: requirement.scopes,
    };
  }
  if (route.tenantParam === undefined) return { allow: true, tenant: identity.tenant };
  const wanted = params[route.tenantParam]!;
  const ok = identity.method === 'bearer' ? identity.tenant === wanted : (identity.tenants ?? []).includes(wanted);
  if (!ok) {
    return { allow: false, reason: 'tenant_mismatch', description: `not authorized for organization ${wanted}` };
  }
  return { allow: true, tenant: wanted };
}
