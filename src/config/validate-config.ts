import { parsePattern } from '../routing/route-pattern.js';
import type { KeyPath } from './config-error.js';
import type { GatewayConfig } from './schema.js';
import { requirementScopes } from './requirements.js';
import { adminListenerProblem, unknownOrganizations, unlicensedScopes } from './licence-rules.js';

export interface Problem {
  path: KeyPath;
  message: string;
}

/** Rules that span fields: references between sections, and combinations that would weaken security. */
export function validateConfig(config: GatewayConfig): Problem[] {
  const problems: Problem[] = [];
  const add = (path: KeyPath, message: string) => problems.push({ path, message });

  const clientIds = new Set<string>();
  const keyHashes = new Set<string>();
  config.clients.forEach((client, i) => {
    if (clientIds.has(client.id)) add(['clients', i, 'id'], `duplicate client id "${client.id}"`);
    clientIds.add(client.id);
    if (client.secret_hash && client.secret) add(['clients', i, 'secret'], 'set secret_hash or secret, not both');
    const granted = new Set(client.scopes);
    client.api_keys.forEach((key, k) => {
      if (keyHashes.has(key.hash)) add(['clients', i, 'api_keys', k, 'hash'], 'this API key is already configured');
      keyHashes.add(key.hash);
      for (const scope of key.scopes ?? []) {
        if (!granted.has(scope))
          add(['clients', i, 'api_keys', k, 'scopes'], `"${scope}" is not one of the client's scopes`);
      }
    });
  });

  const orgs = config.organizations;
  config.clients.forEach((client, i) => {
    const unknown = unknownOrganizations(orgs, client.tenants);
    if (unknown.length > 0) add(['clients', i, 'tenants'], `not listed in organizations: ${unknown.join(', ')}`);
    const unlicensed = unlicensedScopes(orgs, client.tenants, client.scopes);
    if (unknown.length === 0 && unlicensed.length > 0)
      add(['clients', i, 'scopes'], `not licensed to all of its organizations: ${unlicensed.join(', ')}`);
  });
  const adminIds = new Set<string>();
  config.admin.tokens.forEach((token, i) => {
    if (adminIds.has(token.id) || token.id === 'admin_token')
      add(['admin', 'tokens', i, 'id'], `duplicate admin token id "${token.id}"`);
    adminIds.add(token.id);
    if (token.role === 'org_admin' && !token.organizations)
      add(['admin', 'tokens', i, 'organizations'], 'an org_admin needs organizations');
    if (token.role === 'org_admin' && !orgs)
      add(['admin', 'tokens', i, 'role'], 'an org_admin needs the organizations section (their licences)');
    if (token.role !== 'org_admin' && token.organizations)
      add(['admin', 'tokens', i, 'organizations'], 'only an org_admin is bound to organizations');
    const unknown = unknownOrganizations(orgs, token.organizations);
    if (unknown.length > 0)
      add(['admin', 'tokens', i, 'organizations'], `not listed in organizations: ${unknown.join(', ')}`);
  });
  if (config.store === 'memory:' && config.server.workers !== 1)
    add(
      ['server', 'workers'],
      'store memory: keeps state in one process; several workers need a shared store (sqlite:PATH or redis://)',
    );
  if (config.admin.secret_ttl > config.admin.secret_max_ttl)
    add(['admin', 'secret_ttl'], 'longer than admin.secret_max_ttl');
  if (config.server.admin_listen) {
    const problem = adminListenerProblem(config, config.server.admin_listen);
    if (problem) add(['server', 'admin_listen'], problem);
  }

  const trusted = new Set<string>();
  config.trusted_issuers.forEach((t, i) => {
    if (trusted.has(t.issuer)) add(['trusted_issuers', i, 'issuer'], `duplicate issuer "${t.issuer}"`);
    if (config.issuer && t.issuer === config.issuer.issuer)
      add(['trusted_issuers', i, 'issuer'], 'same as issuer.issuer');
    // `local` and `introspection` name the gateway's own clients and introspected tokens (X-Auth-Issuer, SPEC.md 6)
    if (t.issuer === 'local' || t.issuer === 'introspection')
      add(['trusted_issuers', i, 'issuer'], `"${t.issuer}" is reserved for the gateway's own identities`);
    trusted.add(t.issuer);
  });

  config.routes.forEach((route, i) => {
    let params: string[] = [];
    try {
      params = parsePattern(route.path).params;
    } catch (err) {
      add(['routes', i, 'path'], (err as Error).message);
    }
    if (route.upstream !== undefined && !Object.hasOwn(config.upstreams, route.upstream)) {
      add(['routes', i, 'upstream'], `unknown upstream "${route.upstream}"`);
    }
    if (route.auth === 'none') {
      if (route.scopes !== undefined) add(['routes', i, 'scopes'], 'a route with auth: none has no scopes');
      if (route.tenant_param !== undefined) add(['routes', i, 'tenant_param'], 'a route with auth: none has no tenant');
    } else if (route.scopes === undefined) {
      add(['routes', i], 'a protected route needs scopes (use scopes: [] for any authenticated client)');
    }
    if (route.tenant_param !== undefined && !params.includes(route.tenant_param)) {
      add(['routes', i, 'tenant_param'], `path has no :${route.tenant_param}`);
    }
    if (route.strip_prefix !== undefined) {
      const prefix = route.strip_prefix.replace(/\/$/, '');
      if (!(route.path === prefix || route.path.startsWith(`${prefix}/`))) {
        add(['routes', i, 'strip_prefix'], `"${route.strip_prefix}" is not a leading part of the path`);
      }
    }
    if (Array.isArray(route.auth)) {
      if (
        route.auth.includes('bearer') &&
        !config.issuer &&
        config.trusted_issuers.length === 0 &&
        !config.introspection
      ) {
        add(['routes', i, 'auth'], 'bearer needs issuer, trusted_issuers or introspection');
      }
    }
    for (const scope of requirementScopes(route.scopes)) {
      if (scope.includes(' ')) add(['routes', i, 'scopes'], 'scopes are single tokens');
    }
  });
  return problems;
}

/**
 * For a config that is about to serve traffic (`scopegate start`, a reload, `scopegate check`): an empty or
 * truncated file parses as a config without routes, and loading it would turn every request into a 404 while
 * /readyz says ready. It takes an explicit `allow_no_routes: true` (issue 10). Commands that only use the issuer or
 * the store (token, revoke) do not need routes.
 */
export function validateServingConfig(config: GatewayConfig): Problem[] {
  if (config.routes.length > 0 || config.allow_no_routes) return [];
  return [
    {
      path: ['routes'],
      message:
        'no routes: every request would be 404 (an empty or truncated file?); set allow_no_routes: true if meant',
    },
  ];
}
