import { READ_METHODS, WRITE_METHODS, type ScopeRequirement } from '../../config/requirements.js';
import type { AdminContext, AdminRequest, AdminRoute } from '../admin-context.js';
import { grantableScopes } from '../grant-rules.js';

interface Side {
  scopes: string[];
  grantable: boolean;
}

/** The scopes a group of methods needs, and whether the caller may grant a client what passes them. */
function side(
  methods: readonly string[],
  table: ReadonlyMap<string, ScopeRequirement>,
  may: ReadonlySet<string> | undefined,
): Side | undefined {
  const reqs = methods.map((m) => table.get(m)).filter((r): r is ScopeRequirement => r !== undefined);
  if (reqs.length === 0) return undefined;
  const scopes = [...new Set(reqs.flatMap((r) => r.scopes))];
  const grantable = reqs.every((r) =>
    r.mode === 'all' ? r.scopes.every((s) => !may || may.has(s)) : r.scopes.some((s) => !may || may.has(s)),
  );
  return { scopes, grantable };
}

/**
 * `GET /admin/catalog`: per protected route, the scopes its read (GET, HEAD) and write (POST, PUT, PATCH, DELETE)
 * methods need, limited to the routes of which the caller may grant at least one side. A side the route does not
 * serve is null; `read_grantable`/`write_grantable` say which boxes a console may enable.
 */
async function catalog(req: AdminRequest, ctx: AdminContext) {
  const { compiled } = ctx.runtime();
  const may = req.admin.role === 'org_admin' ? grantableScopes(req.admin, compiled.config.organizations) : undefined;
  const endpoints = [];
  for (const route of compiled.routes) {
    if (route.auth === 'none') continue;
    const read = side(READ_METHODS, route.methods, may);
    const write = side(WRITE_METHODS, route.methods, may);
    if (!read?.grantable && !write?.grantable) continue;
    endpoints.push({
      path: route.label,
      read: read?.scopes ?? null,
      write: write?.scopes ?? null,
      read_grantable: read?.grantable ?? false,
      write_grantable: write?.grantable ?? false,
    });
  }
  return { status: 200, body: { endpoints } };
}

export const catalogRoutes: AdminRoute[] = [
  {
    method: 'GET',
    path: '/admin/catalog',
    write: false,
    summary: 'Scopes per endpoint, read and write',
    handler: catalog,
  },
];
