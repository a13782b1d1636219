import { compileConfig, type CompiledConfig, type CompiledRoute } from '../config/compile-config.js';
import { loadConfigFile } from '../config/load-config.js';
import { ROUTABLE_METHODS, type ScopeRequirement } from '../config/requirements.js';
import type { ClientConfig } from '../config/schema.js';
import type { Pattern } from '../routing/route-pattern.js';

function requires(route: CompiledRoute, method: string): string {
  if (route.auth === 'none') return method === 'TRACE' || method === 'CONNECT' ? '405' : 'public (no auth)';
  const r = route.methods.get(method);
  if (!r) return '405';
  if (r.scopes.length === 0) return 'any authenticated client';
  return r.mode === 'any' ? `one of: ${r.scopes.join(' ')}` : r.scopes.join(' ');
}

/** The route x method x scope matrix, as `scopegate check` prints it. */
export function routeMatrix(routes: readonly CompiledRoute[]): string {
  const rows: string[][] = [['ROUTE', 'METHOD', 'REQUIRES', 'AUTH', 'UPSTREAM']];
  for (const route of routes) {
    const auth = route.auth === 'none' ? 'none' : [...route.auth].join(',');
    for (const method of ROUTABLE_METHODS) {
      const req = requires(route, method);
      if (req === '405' && method === 'OPTIONS') continue;
      const extra = route.tenantParam ? ` (tenant = :${route.tenantParam})` : '';
      rows.push([route.label, method, req === '405' ? '405 (not allowed)' : req + extra, auth, route.upstream ?? '-']);
    }
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows
    .map((r) =>
      r
        .map((cell, c) => cell.padEnd(widths[c]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/**
 * True when every path `inner` matches is also matched by `outer`, proven segment by segment (sound, not complete:
 * a containment it cannot prove is not reported). `*` and `:name` match one non-empty segment, `**` any number.
 */
export function patternCovers(outer: Pattern, inner: Pattern): boolean {
  const a = outer.segments;
  const b = inner.segments;
  const memo = new Map<number, boolean>();
  const covers = (i: number, j: number): boolean => {
    const key = i * (b.length + 1) + j;
    const known = memo.get(key);
    if (known !== undefined) return known;
    memo.set(key, false);
    let result: boolean;
    const x = a[i];
    const y = b[j];
    if (y === undefined) result = a.slice(i).every((s) => s.kind === 'many');
    else if (x === undefined) result = false;
    else if (x.kind === 'many') result = covers(i, j + 1) || covers(i + 1, j);
    else if (y.kind === 'many') result = false;
    else if (x.kind === 'literal') result = y.kind === 'literal' && y.value === x.value && covers(i + 1, j + 1);
    else result = (y.kind === 'one' || y.value !== '') && covers(i + 1, j + 1);
    memo.set(key, result);
    return result;
  };
  return covers(0, 0);
}

function satisfies(scopes: readonly string[], requirement: ScopeRequirement): boolean {
  const held = new Set(scopes);
  return requirement.mode === 'all'
    ? requirement.scopes.every((s) => held.has(s))
    : requirement.scopes.some((s) => held.has(s));
}

/** The scope sets a configured client can present on this route, by the credential kinds the route accepts. */
function grantsOn(client: ClientConfig, route: CompiledRoute, compiled: CompiledConfig): (readonly string[])[] {
  if (route.auth === 'none') return [];
  const grants: (readonly string[])[] = [];
  if (route.auth.has('bearer') && compiled.config.issuer) grants.push(client.scopes);
  if (route.auth.has('client_secret') && (client.secret_hash || client.secret)) grants.push(client.scopes);
  if (route.auth.has('api_key')) for (const key of client.api_keys) grants.push(key.scopes ?? client.scopes);
  // A tenant route needs a tenant of the client: a local token's `tenant` claim, or one of `tenants`.
  return route.tenantParam && !(client.tenants && client.tenants.length > 0) ? [] : grants;
}

/**
 * What `check` warns about (exit stays 0): routes no configured client can reach, client scopes no route requires,
 * and routes an earlier route shadows (first match wins, so they never see a request).
 */
export function configWarnings(compiled: CompiledConfig): string[] {
  const warnings: string[] = [];
  const { routes } = compiled;
  const clients = [...compiled.clients.values()];
  const external = compiled.config.trusted_issuers.length > 0 || compiled.config.introspection !== undefined;
  for (const route of routes) {
    const earlier = routes.slice(0, route.index).find((r) => patternCovers(r.pattern, route.pattern));
    if (earlier) {
      warnings.push(
        `route #${route.index + 1} ${route.label} is shadowed by route #${earlier.index + 1} ${earlier.label}`,
      );
      continue;
    }
    if (route.auth === 'none' || route.methods.size === 0) continue;
    const unreachable = [...route.methods].filter(
      ([, requirement]) => !clients.some((c) => grantsOn(c, route, compiled).some((g) => satisfies(g, requirement))),
    );
    if (unreachable.length === 0) continue;
    const what =
      unreachable.length === route.methods.size
        ? 'no client can reach it'
        : `no client can call ${unreachable.map(([m]) => m).join(', ')}`;
    warnings.push(
      `route #${route.index + 1} ${route.label}: ${what}${external ? ' (tokens of trusted issuers or introspection might)' : ''}`,
    );
  }
  const used = new Set(routes.flatMap((r) => [...r.methods.values()].flatMap((req) => req.scopes)));
  for (const client of clients) {
    const unused = client.scopes.filter((s) => !used.has(s));
    if (unused.length > 0) warnings.push(`client ${client.id}: no route requires ${unused.join(', ')}`);
  }
  return warnings;
}

export function checkCommand(configPath: string): string {
  const compiled = compileConfig(loadConfigFile(configPath, { serving: true }));
  const c = compiled.config;
  const summary = `${configPath}: ok (${c.routes.length} routes, ${c.clients.length} clients, ${Object.keys(c.upstreams).length} upstreams)`;
  const warnings = configWarnings(compiled).map((w) => `warning: ${w}`);
  return [summary, ...warnings, '', routeMatrix(compiled.routes)].join('\n');
}
