import express, { type NextFunction, type Request, type Response } from 'express';
import { safeEqual } from '../auth/secret-hash.js';
import { invalidRequest, invalidToken, missingCredentials, OAuthError } from '../errors/oauth-error.js';
import { renderError } from '../errors/render-error.js';
import type { Runtime, Services } from '../server/runtime.js';
import { revokeClientAccess, restoreClientAccess } from './client-access.js';

export interface AdminDeps {
  runtime: () => Runtime;
  services: Services;
  /** extra readiness checks and routes (metrics) are added by the caller */
  extend?: (app: express.Express) => void;
}

function sendJson(res: Response, status: number, body: unknown): void {
  // writeHead, not res.set/res.send: Express appends `; charset=utf-8` to a JSON Content-Type (SPEC.md 5: none)
  res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' }).end(JSON.stringify(body));
}

/** The admin listener: health, readiness and the admin API. Never mounted on the public port. */
export function createAdminApp(deps: AdminDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('case sensitive routing', true);
  app.set('strict routing', true);

  // Express decodes route params with decodeURIComponent and answers a URIError with 500: refuse a malformed path
  // before any route sees it, whatever routes are added later.
  app.use((req, _res, next) => {
    try {
      decodeURIComponent(req.path);
    } catch {
      return next(invalidRequest('malformed percent-encoding in path', 'bad_path'));
    }
    next();
  });

  app.get('/healthz', (_req, res) => sendJson(res, 200, { status: 'ok' }));
  app.get('/readyz', async (_req, res) => {
    const checks: Record<string, string> = { config: 'ok' };
    try {
      await deps.services.store.ping();
      checks.store = 'ok';
    } catch {
      checks.store = 'unreachable';
    }
    if (deps.runtime().compiled.config.issuer) checks.keys = deps.services.keys ? 'ok' : 'missing';
    const ready = Object.values(checks).every((v) => v === 'ok');
    sendJson(res, ready ? 200 : 503, { status: ready ? 'ready' : 'not_ready', checks });
  });
  deps.extend?.(app);

  const admin = express.Router({ caseSensitive: true, strict: true });
  admin.use((req, _res, next) => {
    const token = deps.runtime().compiled.config.server.admin_token;
    const header = req.headers.authorization;
    if (!token)
      return next(invalidToken('the admin API is disabled (server.admin_token is not set)', 'admin_disabled'));
    if (!header) return next(missingCredentials());
    const m = /^Bearer ([^\s]+)$/i.exec(header);
    if (!m || !safeEqual(m[1]!, token)) return next(invalidToken('invalid admin token', 'bad_admin_token'));
    next();
  });
  admin.post('/clients/:id/revoke', async (req, res) => {
    const id = req.params.id!;
    if (!deps.runtime().compiled.clients.has(id))
      return sendJson(res, 404, { error: 'not_found', error_description: 'unknown client' });
    const at = await revokeClientAccess(deps.services, id);
    sendJson(res, 200, { client_id: id, revoked_at: new Date(at).toISOString() });
  });
  admin.post('/clients/:id/restore', async (req, res) => {
    const id = req.params.id!;
    if (!deps.runtime().compiled.clients.has(id))
      return sendJson(res, 404, { error: 'not_found', error_description: 'unknown client' });
    await restoreClientAccess(deps.services, id);
    sendJson(res, 200, { client_id: id, restored: true });
  });
  app.use('/admin', admin);

  app.use((_req: Request, res: Response) =>
    sendJson(res, 404, { error: 'not_found', error_description: 'no such admin path' }),
  );
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const rendered = renderError(clientFault(err), {
      realm: `${deps.runtime().compiled.config.server.realm}-admin`,
    });
    res.writeHead(rendered.status, rendered.headers).end(rendered.body);
  });
  return app;
}

/**
 * An OAuthError as it is; an error Express or a body parser raised for the request itself (`status` 4xx: malformed
 * path parameter, unreadable JSON, body too large) as that 4xx `invalid_request`; anything else stays a 500.
 */
function clientFault(err: unknown): OAuthError | undefined {
  if (err instanceof OAuthError) return err;
  if (err instanceof URIError) return invalidRequest('malformed percent-encoding in path', 'bad_path');
  const status = typeof err === 'object' && err !== null ? (err as { status?: unknown; statusCode?: unknown }) : {};
  const code = typeof status.status === 'number' ? status.status : status.statusCode;
  if (typeof code === 'number' && code >= 400 && code < 500) {
    return new OAuthError(code, 'invalid_request', 'the request could not be read', 'none', { reason: 'bad_request' });
  }
  return undefined;
}
