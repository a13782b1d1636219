import type { MethodKey, Requirement, RouteConfig } from './schema.js';

export const READ_METHODS = ['GET', 'HEAD'] as const;
export const WRITE_METHODS = ['POST', 'PUT', 'PATCH', 'DELETE'] as const;
/** Methods a route can grant; TRACE and CONNECT are never forwarded. */
export const ROUTABLE_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

/** What a caller must hold: every scope (`all`) or at least one (`any`). */
export interface ScopeRequirement {
  mode: 'all' | 'any';
  scopes: readonly string[];
}

export function toRequirement(r: Requirement): ScopeRequirement {
  if (Array.isArray(r)) return { mode: 'all', scopes: r };
  if ('any' in r) return { mode: 'any', scopes: r.any };
  return { mode: 'all', scopes: r.all };
}

function isRequirement(value: RouteConfig['scopes']): value is Requirement {
  return Array.isArray(value) || (value !== undefined && ('any' in value || 'all' in value));
}

/**
 * The per-method table of a route. A method named explicitly (GET) wins over its group (read); a bare requirement
 * applies to every read and write method (OPTIONS always needs its own entry). A method missing from the table gets 405.
 */
export function methodTable(scopes: RouteConfig['scopes']): Map<string, ScopeRequirement> {
  const table = new Map<string, ScopeRequirement>();
  if (scopes === undefined) return table;
  if (isRequirement(scopes)) {
    const req = toRequirement(scopes);
    for (const m of [...READ_METHODS, ...WRITE_METHODS]) table.set(m, req);
    return table;
  }
  const groups: [MethodKey, readonly string[]][] = [
    ['read', READ_METHODS],
    ['write', WRITE_METHODS],
  ];
  for (const [key, methods] of groups) {
    const r = scopes[key];
    if (r !== undefined) for (const m of methods) table.set(m, toRequirement(r));
  }
  for (const m of ROUTABLE_METHODS) {
    const r = scopes[m];
    if (r !== undefined) table.set(m, toRequirement(r));
  }
  return table;
}

export function requirementScopes(scopes: RouteConfig['scopes']): string[] {
  return [...new Set([...methodTable(scopes).values()].flatMap((r) => r.scopes))];
}
