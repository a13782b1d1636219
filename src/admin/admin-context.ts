import type { IncomingHttpHeaders } from 'node:http';
import type { FailedAuthLimiter } from '../ratelimit/failed-auth-limiter.js';
import type { Runtime, Services } from '../runtime/runtime.js';
import type { DocumentStore } from '../store/documents.js';
import type { AdminIdentity } from './admin-auth.js';
import { stored } from './admin-error.js';
import { appendAudit, type AuditInput } from './audit-trail.js';
import type { ClientRegistry } from './client-registry.js';
import type { UsageRecorder } from './usage-recorder.js';

/** What every admin route handler gets. */
export interface AdminContext {
  runtime: () => Runtime;
  services: Services;
  docs: DocumentStore;
  registry: ClientRegistry;
  usage: UsageRecorder;
  failedAuth?: FailedAuthLimiter;
}

export interface AdminRequest {
  admin: AdminIdentity;
  address: string | null;
  params: Record<string, string>;
  query: Record<string, string | undefined>;
  body: unknown;
  headers: IncomingHttpHeaders;
}

export interface AdminResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export type AdminHandler = (req: AdminRequest, ctx: AdminContext) => Promise<AdminResponse>;

/** One row of the route table: the router, the OpenAPI document and the role test are built from it. */
export interface AdminRoute {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** OpenAPI style: /admin/clients/{id} */
  path: string;
  /** writes are refused to viewers */
  write: boolean;
  summary: string;
  handler: AdminHandler;
}

/** Appends an audit record for an action of `req.admin`; a store failure is a 503. */
export function audit(
  ctx: AdminContext,
  req: Pick<AdminRequest, 'admin' | 'address'>,
  input: Omit<AuditInput, 'actor' | 'address'>,
): Promise<unknown> {
  return stored(appendAudit(ctx.docs, { actor: req.admin.id, address: req.address, ...input }, ctx.services.now()));
}
