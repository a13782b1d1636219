import { clientAddress } from '../proxy/client-address.js';
import express, { type NextFunction, type Request, type Response } from 'express';
import {
  invalidRequest,
  invalidToken,
  missingCredentials,
  OAuthError,
  storeUnavailable,
} from '../errors/oauth-error.js';
import { isStoreFailure } from '../store/store-unavailable.js';
import { renderError } from '../errors/render-error.js';
import type { FailedAuthLimiter } from '../ratelimit/failed-auth-limiter.js';
import { rateLimited } from '../ratelimit/ratelimit-headers.js';
import type { Runtime, Services } from '../runtime/runtime.js';
import { authenticateAdmin, mayWrite, type AdminIdentity } from './admin-auth.js';
import type { AdminContext, AdminRoute } from './admin-context.js';
import { AdminError, badRequest, forbidden } from './admin-error.js';
import { appendAudit } from './audit-trail.js';
import type { ClientRegistry } from './client-registry.js';
import { ADMIN_ROUTES } from './routes/index.js';
import type { UsageRecorder } from './usage-recorder.js';
import type { DocumentStore } from '../store/documents.js';
import { StoreReadiness } from './store-readiness.js';
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
  /** whether the store can write, for /readyz (default: probed in the background every 2 s) */
  storeReadiness?: StoreReadiness;
  /** called when an admin change was answered 503 because the store failed; `cause` is the error's message */
  onStoreUnavailable?: (cause: string, path: string) => void;
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

  const storeReadiness = deps.storeReadiness ?? new StoreReadiness(deps.services.store);
  app.get('/healthz', (_req, res) => sendJson(res, 200, { status: 'ok' }));
  app.get('/readyz', (_req, res) => {
    const checks: Record<string, string> = { config: 'ok' };
    let ready: boolean;
    const health = deps.services.store.health?.();
    if (health) {
      // A shared store reports its own health, the same that `scopegate_store_up` shows (SPEC.md 9): not ready until
      // its state is loaded and its change feed live; an outage leaves the instance ready but degraded, serving
      // from the last known state.
      checks.store = health.state === 'up' ? 'ok' : health.state;
      ready = health.state !== 'starting';
    } else {
      // Ready means able to write (a read-only check stays green through a full disk or a held lock).
      const store = storeReadiness.check();
      checks.store = store.value;
      ready = store.ready;
    }
    if (deps.runtime().compiled.config.issuer) {
      checks.keys = deps.services.keys ? 'ok' : 'missing';
      ready &&= checks.keys === 'ok';
    }
    sendJson(res, ready ? 200 : 503, { status: ready ? 'ready' : 'not_ready', store: checks.store, checks });
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
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    if (isStoreFailure(err)) {
      // A change not stored is never acknowledged: 503 + Retry-After, the cause only in the log.
      deps.onStoreUnavailable?.(err instanceof Error ? err.message : 'store unavailable', req.path);
      err = storeUnavailable();
    }
    if (err instanceof AdminError) {
      // SPEC.md 4: every 401 and 403 carries a Bearer challenge, the admin API's 403 included
      const challenge: Record<string, string> = {};
      if (err.status === 403)
        challenge['WWW-Authenticate'] =
          `Bearer realm="${deps.runtime().compiled.config.server.realm}-admin", error="insufficient_scope"`;
      return sendJson(res, err.status, err.body(), { ...err.extra.headers, ...challenge });
    }
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
          address: callerAddress(ctx.runtime, req) ?? null,
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
  const address = callerAddress(deps.runtime, req);
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

/** The caller's address for the audit trail and failed-auth limits: behind `server.trusted_proxies`, the client. */
function callerAddress(runtime: () => Runtime, req: Request): string | undefined {
  return clientAddress(req.socket.remoteAddress, req.rawHeaders, runtime().compiled.trustedProxies).address;
}
