import express, { type NextFunction, type Request, type Response } from 'express';
import { invalidToken, missingCredentials, OAuthError } from '../errors/oauth-error.js';
import { renderError } from '../errors/render-error.js';
import type { FailedAuthLimiter } from '../ratelimit/failed-auth-limiter.js';
import { rateLimited } from '../ratelimit/ratelimit-headers.js';
import type { Runtime, Services } from '../server/runtime.js';
import { authenticateAdmin, mayWrite, type AdminIdentity } from './admin-auth.js';
import type { AdminContext, AdminRoute } from './admin-context.js';
import { AdminError, badRequest, forbidden } from './admin-error.js';
import { appendAudit } from './audit-trail.js';
import type { ClientRegistry } from './client-registry.js';
import { ADMIN_ROUTES } from './routes/index.js';
import type { UsageRecorder } from './usage-recorder.js';
import type { DocumentStore } from '../store/documents.js';
import { mountConsole } from './console/console-app.js';
import { ConsoleSessions, type ConsoleSessionOptions } from './console/console-sessions.js';
import { authenticateSession } from './console/session-auth.js';

export interface AdminDeps {
  runtime: () => Runtime;
  services: Services;
  /** the admin API's state; without it only health, readiness and the extensions are served */
  docs?: DocumentStore;
  registry?: ClientRegistry;
  usage?: UsageRecorder;
  failedAuth?: FailedAuthLimiter;
  /** extra readiness checks and routes (metrics) are added by the caller */
  extend?: (app: express.Express) => void;
  /** a store failure on a best-effort path (audit of a failed login) */
  onError?: (err: unknown) => void;
  /** the console's session lifetimes (tests shorten them) */
  console?: ConsoleSessionOptions;
}

function sendJson(res: Response, status: number, body: unknown, headers: Record<string, string> = {}): void {
  // writeHead, not res.set/res.send: Express appends `; charset=utf-8` to a JSON Content-Type (SPEC.md 5: none)
  if (status === 204) {
    res.writeHead(204, { 'Cache-Control': 'no-store', ...headers }).end();
    return;
  }
  res
    .writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...headers })
    .end(JSON.stringify(body));
}

const expressPath = (path: string) => path.replace(/^\/admin/, '').replace(/\{(\w+)\}/g, ':$1');

type Locals = { admin?: AdminIdentity };

/** The admin listener: health, readiness and the admin API (SPEC.md 10). Never mounted on the public port. */
export function createAdminApp(deps: AdminDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.set('case sensitive routing', true);
  app.set('strict routing', true);

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

  const sessions = new ConsoleSessions(deps.console);
  mountConsole(app, {
    sessions,
    config: () => deps.runtime().compiled.config,
    now: deps.services.now,
    authenticate: (req, res, next) => authenticate(deps, req, res, next),
    sendJson,
    sendError: (res, err) => sendJson(res, err.status, err.body(), err.extra.headers),
  });

  const admin = express.Router({ caseSensitive: true, strict: true });
  admin.use((req, res, next) => authenticate(deps, req, res, next, sessions));
  admin.use(express.json({ limit: '64kb', strict: true }));
  if (deps.docs && deps.registry && deps.usage) {
    const ctx: AdminContext = {
      runtime: deps.runtime,
      services: deps.services,
      docs: deps.docs,
      registry: deps.registry,
      usage: deps.usage,
      failedAuth: deps.failedAuth,
    };
    for (const route of ADMIN_ROUTES) mount(admin, route, ctx);
  }
  admin.use((_req, _res, next) => next(new AdminError(404, 'not_found', 'no such admin path')));
  app.use('/admin', admin);

  app.use((_req: Request, res: Response) =>
    sendJson(res, 404, { error: 'not_found', error_description: 'no such admin path' }),
  );
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof AdminError) return sendJson(res, err.status, err.body(), err.extra.headers);
    const parseError = (err as { type?: string } | undefined)?.type;
    if (
      parseError === 'entity.parse.failed' ||
      parseError === 'encoding.unsupported' ||
      parseError === 'charset.unsupported'
    ) {
      const e = badRequest('the body is not valid JSON', 'body');
      return sendJson(res, e.status, e.body());
    }
    if (parseError === 'entity.too.large')
      return sendJson(res, 413, {
        error: 'invalid_request',
        error_description: 'body larger than 64 KiB',
        field: 'body',
      });
    const rendered = renderError(err instanceof OAuthError ? err : undefined, {
      realm: `${deps.runtime().compiled.config.server.realm}-admin`,
    });
    res.writeHead(rendered.status, rendered.headers).end(rendered.body);
  });
  return app;
}

function mount(router: express.Router, route: AdminRoute, ctx: AdminContext): void {
  const method = route.method.toLowerCase() as 'get' | 'post' | 'patch' | 'delete';
  router[method](expressPath(route.path), (req: Request, res: Response, next: NextFunction) => {
    const admin = (res.locals as Locals).admin!;
    if (route.write && !mayWrite(admin)) return next(forbidden('a viewer token may only read'));
    const query: Record<string, string | undefined> = {};
    for (const [k, v] of Object.entries(req.query)) {
      if (typeof v !== 'string') return next(badRequest(`${k} is given more than once`, k));
      query[k] = v;
    }
    route
      .handler(
        {
          admin,
          address: req.socket.remoteAddress ?? null,
          params: req.params as Record<string, string>,
          query,
          body: req.body as unknown,
          headers: req.headers,
        },
        ctx,
      )
      .then((out) => sendJson(res, out.status, out.body, out.headers), next);
  });
}

/**
 * Every admin path needs a valid admin token: 401 with a Bearer challenge otherwise. A wrong or expired token counts
 * against the failed-auth limit of the address and is written to the audit trail (without the token).
 */
function authenticate(
  deps: AdminDeps,
  req: Request,
  res: Response,
  next: NextFunction,
  sessions?: ConsoleSessions,
): void {
  const now = deps.services.now();
  const address = req.socket.remoteAddress;
  // The console's session cookie stands in for the Bearer token (same identity, same rules; CSRF token on writes).
  if (sessions && req.headers.authorization === undefined) {
    const session = authenticateSession(sessions, deps.runtime().compiled.config, req.method, req.headers, now);
    if (session.kind === 'error') return next(session.error);
    if (session.kind === 'ok') {
      (res.locals as Locals).admin = session.admin;
      return next();
    }
  }
  const limiter = deps.failedAuth;
  if (limiter?.active) {
    const wait = limiter.addressBlockedMs(address, now);
    if (wait > 0) return next(rateLimited('failed_auth', limiter.rate(), wait, 'failed_auth_limited'));
  }
  const result = authenticateAdmin(deps.runtime().compiled.config, req.headers.authorization, now);
  if (result.ok) {
    (res.locals as Locals).admin = result.admin;
    return next();
  }
  if (result.reason === 'admin_disabled')
    return next(invalidToken('the admin API is disabled (no admin tokens are configured)', 'admin_disabled'));
  if (result.reason === 'no_credentials') return next(missingCredentials());
  const failure = invalidToken(
    result.reason === 'admin_token_expired' ? 'the admin token has expired' : 'invalid admin token',
    result.reason,
  );
  const record = deps.docs
    ? appendAudit(
        deps.docs,
        {
          actor: null,
          address: address ?? null,
          action: 'auth_failed',
          target: {},
          changes: { reason: { before: null, after: result.reason }, path: { before: null, after: req.path } },
        },
        now,
      ).catch((err: unknown) => deps.onError?.(err))
    : Promise.resolve();
  const counted = limiter ? limiter.recordFailure(address, undefined, now) : Promise.resolve(0);
  Promise.all([counted, record]).then(
    ([wait]) =>
      next(wait && wait > 0 ? rateLimited('failed_auth', limiter!.rate(), wait, 'failed_auth_limited') : failure),
    () => next(failure),
  );
}
