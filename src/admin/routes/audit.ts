import type { AdminContext, AdminRequest, AdminRoute } from '../admin-context.js';
import { badRequest, stored } from '../admin-error.js';
import { queryAudit } from '../audit-trail.js';

function time(value: string | undefined, field: string): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(ms))
    throw badRequest(`${field} is not an ISO 8601 time`, field);
  return ms;
}

/** `GET /admin/audit`: pages of records, oldest first; org admins see only records of their organizations. */
async function list(req: AdminRequest, ctx: AdminContext) {
  const q = req.query;
  const cursor = q.cursor === undefined ? undefined : Number(q.cursor);
  if (cursor !== undefined && (!Number.isSafeInteger(cursor) || cursor < 1)) throw badRequest('bad cursor', 'cursor');
  const limit = q.limit === undefined ? 100 : Number(q.limit);
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > 1000) throw badRequest('limit is 1 to 1000', 'limit');
  const page = await stored(
    queryAudit(ctx.docs, {
      client: q.client,
      organization: q.organization,
      actor: q.actor,
      since: time(q.since, 'since'),
      until: time(q.until, 'until'),
      cursor,
      limit,
      within: req.admin.role === 'org_admin' ? req.admin.organizations : undefined,
    }),
  );
  return { status: 200, body: page };
}

export const auditRoutes: AdminRoute[] = [
  { method: 'GET', path: '/admin/audit', write: false, summary: 'The audit trail, filtered and paged', handler: list },
];
