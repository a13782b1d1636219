import { compileConfig, type CompiledRoute } from '../config/compile-config.js';
import { loadConfigFile } from '../config/load-config.js';
import { ROUTABLE_METHODS } from '../config/requirements.js';

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
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd()).join('\n');
}

export function checkCommand(configPath: string): string {
  const compiled = compileConfig(loadConfigFile(configPath));
  const c = compiled.config;
  const summary = `${configPath}: ok (${c.routes.length} routes, ${c.clients.length} clients, ${Object.keys(c.upstreams).length} upstreams)`;
  return `${summary}\n\n${routeMatrix(compiled.routes)}`;
}
