import express, { type NextFunction, type Request, type Response } from 'express';
import { safeEqual } from '../auth/secret-hash.js';
import { invalidToken, missingCredentials, OAuthError, storeUnavailable } from '../errors/oauth-error.js';
import { isStoreFailure } from '../store/store-error.js';
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

  app.get('/healthz', (_req, res) => sendJson(res, 200, { status: 'ok' }));
  app.get('/readyz', async (_req, res) => {
    const checks: Record<string, string> = { config: 'ok' };
    const health = deps.services.store.health?.();
    if (health) {
      // A shared store: not ready until its state is loaded and its change feed live; once it was, an outage
      // leaves the instance ready but degraded (it serves from the last known state, SPEC.md 9).
      checks.store = health.state === 'up' ? 'ok' : health.state;
    } else {
      try {
        await deps.services.store.ping();
        checks.store = 'ok';
      } catch {
        checks.store = 'unreachable';
      }
    }
    if (deps.runtime().compiled.config.issuer) checks.keys = deps.services.keys ? 'ok' : 'missing';
    const ready = Object.entries(checks).every(([k, v]) => v === 'ok' || (k === 'store' && v === 'degraded'));
    sendJson(res, ready ? 200 : 503, { status: ready ? 'ready' : 'not_ready', store: checks.store, checks });
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
    // a write the store could not record is 503 + Retry-After, never acknowledged (SPEC.md 9)
    const known = err instanceof OAuthError ? err : isStoreFailure(err) ? storeUnavailable() : undefined;
    const rendered = renderError(known, {
      realm: `${deps.runtime().compiled.config.server.realm}-admin`,
    });
    res.writeHead(rendered.status, rendered.headers).end(rendered.body);
  });
  return app;
}
