import { unlicensedScopes, unknownOrganizations } from '../config/licence-rules.js';
import type { GatewayConfig } from '../config/schema.js';
import { badRequest, forbidden, notLicensed, type AdminError } from './admin-error.js';
import { managesOrganizations, type AdminIdentity } from './admin-auth.js';

/**
 * Whether `admin` may give a client these organizations and scopes (SPEC.md 10): an org_admin only within its own
 * organizations (and never none), organizations must be listed when the config has `organizations`, and every scope
 * must be licensed to every organization of the client. Returns the error to answer, or undefined.
 */
export function grantProblem(
  admin: AdminIdentity,
  organizationsConfig: GatewayConfig['organizations'],
  organizations: readonly string[] | undefined,
  scopes: readonly string[],
): AdminError | undefined {
  if (!managesOrganizations(admin, organizations)) {
    return forbidden('an org_admin may only bind clients to its own organizations (at least one)');
  }
  const unknown = unknownOrganizations(organizationsConfig, organizations);
  if (unknown.length > 0) return badRequest(`unknown organizations: ${unknown.join(', ')}`, 'organizations');
  const unlicensed = unlicensedScopes(organizationsConfig, organizations, scopes);
  if (unlicensed.length > 0) return notLicensed(unlicensed);
  if (admin.role === 'org_admin' && !organizationsConfig) return notLicensed([...scopes]);
  return undefined;
}

/** Every scope an admin may grant: all for operators (undefined), the union of its organizations' licences otherwise. */
export function grantableScopes(
  admin: AdminIdentity,
  organizationsConfig: GatewayConfig['organizations'],
): ReadonlySet<string> | undefined {
  if (admin.role !== 'org_admin') return undefined;
  const scopes = new Set<string>();
  for (const org of admin.organizations ?? [])
    for (const s of organizationsConfig?.[org]?.licensed_scopes ?? []) scopes.add(s);
  return scopes;
}
