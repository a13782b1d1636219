import express, { type NextFunction, type Request, type Response } from 'express';
import { safeEqual } from '../auth/secret-hash.js';
import { invalidToken, missingCredentials, OAuthError, storeUnavailable } from '../errors/oauth-error.js';
import { renderError } from '../errors/render-error.js';
import type { Runtime, Services } from '../server/runtime.js';
import { StoreUnavailableError } from '../store/store-unavailable.js';
import { revokeClientAccess, restoreClientAccess } from './client-access.js';
import { StoreReadiness } from './store-readiness.js';

export interface AdminDeps {
  runtime: () => Runtime;
  services: Services;
  /** extra readiness checks and routes (metrics) are added by the caller */
  extend?: (app: express.Express) => void;
  /** whether the store can write, for /readyz (default: probed in the background every 2 s) */
  storeReadiness?: StoreReadiness;
  /** called when an admin change was answered 503 because the store failed; `cause` is the error's message */
  onStoreUnavailable?: (cause: string, path: string) => void;
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

  const storeReadiness = deps.storeReadiness ?? new StoreReadiness(deps.services.store);
  app.get('/healthz', (_req, res) => sendJson(res, 200, { status: 'ok' }));
  app.get('/readyz', (_req, res) => {
    // Ready means able to write (a read-only check stays green through a full disk or a held lock).
    const store = storeReadiness.check();
    const checks: Record<string, string> = { config: 'ok', store: store.value };
    let ready = store.ready;
    if (deps.runtime().compiled.config.issuer) {
      checks.keys = deps.services.keys ? 'ok' : 'missing';
      ready &&= checks.keys === 'ok';
    }
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
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof StoreUnavailableError) {
      // A change not stored is never acknowledged: 503 + Retry-After, the cause only in the log.
      deps.onStoreUnavailable?.(err.message, req.path);
      err = storeUnavailable();
    }
    const rendered = renderError(err instanceof OAuthError ? err : undefined, {
      realm: `${deps.runtime().compiled.config.server.realm}-admin`,
    });
    res.writeHead(rendered.status, rendered.headers).end(rendered.body);
  });
  return app;
}
