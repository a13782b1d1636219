import type { IncomingMessage, ServerResponse } from 'node:http';
import { CredentialRejected } from '../auth/authenticate.js';
import { isLocalIdentity, type Identity } from '../auth/identity.js';
import { addCorsHeaders, answerPreflight, corsPolicy, isPreflight, type CorsPolicy } from '../cors/cors.js';
import {
  httpVersionNotSupported,
  invalidRequest,
  notFound,
  storeUnavailable,
  tooManyHeaderFields,
  uriTooLong,
  type OAuthError,
} from '../errors/oauth-error.js';
import { renderError } from '../errors/render-error.js';
import { issuerEndpoint } from '../issuer/issuer-paths.js';
import { decide, type Decision, type Destination } from '../pipeline/decide.js';
import { clientAddress, type ClientAddress } from '../proxy/client-address.js';
import { upstreamHeaders } from '../proxy/upstream-headers.js';
import type { ClientRateLimiter } from '../ratelimit/client-rate-limiter.js';
import type { FailedAuthLimiter } from '../ratelimit/failed-auth-limiter.js';
import { rateLimited } from '../ratelimit/ratelimit-headers.js';
import { matchRoute } from '../routing/match-route.js';
import { normalizeTarget } from '../routing/normalize-path.js';
import { redactPath } from './log-safety.js';
import { isStoreFailure } from '../store/store-unavailable.js';
import { REDACT_PATHS, type Logger } from './logger.js';
import type { Runtime } from '../runtime/runtime.js';
import type { RequestLog } from '../metrics/request-log.js';

export type { RequestLog };

export interface GatewayHooks {
  /**
   * the request should go to another handler first (token endpoint, metadata); return true, or a label for the log
   * line's `route` (e.g. `issuer:token`), when it took it
   */
  before?: (req: IncomingMessage, res: ServerResponse, runtime: Runtime) => boolean | string;
  onFinished?: (log: RequestLog, runtime: Runtime) => void;
}

/** The limits of SPEC.md 7; they live as long as the process (a reload keeps their state). */
export interface GatewayLimits {
  clients: ClientRateLimiter;
  failedAuth: FailedAuthLimiter;
  now: () => number;
}

/** What a delegated handler (the issuer app) leaves on `res.locals` for the log line. */
interface DelegatedOutcome {
  clientId?: string;
  reason?: string;
}

const REQUEST_LINE_REDACT = REDACT_PATHS.filter((path) => !path.includes('*'));

const CREDENTIAL_HEADERS = new Set(['authorization', 'x-api-key', 'x-client-id', 'x-client-secret']);

/**
 * Header fields a request may carry. Node keeps only the first 1000 fields (`maxHeadersCount` 2000 raw entries) of a
 * request, here and in a Node upstream, which would then drop the identity headers the gateway appends; well below
 * that and above any real client (browsers and SDKs send 10-40, Apache's LimitRequestFields is 100).
 */
export const MAX_HEADER_FIELDS = 200;

/**
 * The standalone gateway's request handler on plain node:http: decide, then forward or render the error.
 * `current()` is read once per request, so a reload never changes the config under a request in flight.
 */
export function createRequestHandler(
  current: () => Runtime,
  logger: Logger,
  hooks: GatewayHooks = {},
  limits?: GatewayLimits,
) {
  // The request line is a flat object of known, non-secret fields: top-level redaction covers it, and pino's
  // wildcard paths (`*.token`, ...) cost ~11 us per line (docs/performance.md).
  const requestLogger = logger.child({}, { redact: { paths: REQUEST_LINE_REDACT, censor: '[redacted]' } });
  return (req: IncomingMessage, res: ServerResponse): void => {
    const runtime = current();
    const started = process.hrtime.bigint();
    const client = clientAddress(req.socket.remoteAddress, req.rawHeaders, runtime.compiled.trustedProxies);
    const log: RequestLog = { method: req.method ?? 'GET', client_address: client.address, decision: 'deny' };
    let delegated = false;
    const finished = (status: number) => {
      log.status = status;
      log.latency_ms = Math.round(Number(process.hrtime.bigint() - started) / 1e3) / 1e3;
      if (delegated) describeDelegated(res, log);
      requestLogger.info(log, 'request');
      hooks.onFinished?.(log, runtime);
    };
    // node:http emits 'close' after 'finish' on every response (next tick), and 'close' alone for one the client left
    res.once('close', () => {
      if (res.writableFinished) return finished(res.statusCode);
      log.reason ??= 'client_closed';
      finished(res.headersSent ? res.statusCode : 499);
    });

    const framing = checkFraming(req);
    if (framing) {
      // the body's length cannot be trusted: never read another request from this connection
      res.shouldKeepAlive = false;
      return sendError(res, runtime, framing, log);
    }
    if (limits?.failedAuth.active) {
      const wait = blockedAddressMs(req, client.address, runtime, limits);
      if (wait > 0) {
        const rate = limits.failedAuth.rate();
        return sendError(res, runtime, rateLimited('failed_auth', rate, wait, 'failed_auth_limited'), log);
      }
    }
    if (req.headers.origin !== undefined) {
      const cors = corsPolicy(runtime.compiled);
      if (cors) {
        if (isPreflight(req)) return preflight(req, res, runtime, cors, log);
        addCorsHeaders(res, cors, req.headers.origin);
      }
    }
    const taken = hooks.before?.(req, res, runtime);
    if (taken) {
      delegated = true;
      log.route = typeof taken === 'string' ? taken : 'gateway';
      return;
    }

    decide({ method: log.method, target: req.url ?? '/', rawHeaders: req.rawHeaders }, runtime.auth).then(
      (decision) => handleDecision(req, res, client, runtime, decision, log, logger, limits),
      (err: unknown) => {
        if (isStoreFailure(err)) {
          // API key and client-secret checks read client state: fail closed like Bearer, 503 + Retry-After.
          logger.error({ err: err.message }, 'store unavailable');
          return sendError(res, runtime, storeUnavailable(), log);
        }
        logger.error({ err: describe(err) }, 'decision failed');
        sendError(res, runtime, undefined, log);
      },
    );
  };
}

function handleDecision(
  req: IncomingMessage,
  res: ServerResponse,
  client: ClientAddress,
  runtime: Runtime,
  decision: Decision,
  log: RequestLog,
  logger: Logger,
  limits: GatewayLimits | undefined,
): void {
  const destination = decision.destination;
  if (destination) {
    log.route = destination.route.label;
    log.path = redactPath(destination.forwardTarget.split('?', 1)[0]!);
  }
  if (decision.identity) {
    log.client_id = decision.identity.clientId;
    log.issuer = decision.identity.issuer;
    log.auth_method = decision.identity.method;
  }
  if (decision.kind === 'allow') {
    log.decision = 'allow';
    // Only the gateway's own clients have a rate_limit: a foreign identity with an equal id is another client.
    const identity = decision.identity;
    if (limits && identity && isLocalIdentity(identity, runtime.compiled.config)) {
      const rate = runtime.compiled.clients.get(identity.clientId)?.rate_limit;
      const wait = rate ? limits.clients.take(identity, rate, limits.now()) : 0;
      const admit = (ms: number) => {
        if (ms > 0) {
          log.decision = 'deny';
          return sendError(res, runtime, rateLimited('client', rate!, ms, 'rate_limited'), log);
        }
        forward(req, res, client, runtime, decision.destination, decision.identity, decision.tenant, log);
      };
      // a shared store (Redis) answers asynchronously; a local bucket at once
      if (typeof wait === 'number') return admit(wait);
      return void wait.then(admit);
    }
    return forward(req, res, client, runtime, decision.destination, decision.identity, decision.tenant, log);
  }
  const rejected = decision.error.cause;
  if (limits && rejected instanceof CredentialRejected) {
    // A failed credential check counts against the address and the claimed client id (server.failed_auth_limit).
    limits.failedAuth.recordFailure(client.address, rejected.clientId, limits.now()).then(
      (wait) => {
        if (wait === 0) return deny(req, res, client, runtime, decision, log);
        sendError(res, runtime, rateLimited('failed_auth', limits.failedAuth.rate(), wait, 'failed_auth_limited'), log);
      },
      (err: unknown) => {
        logger.error({ err: describe(err) }, 'failed-auth counter unavailable');
        deny(req, res, client, runtime, decision, log);
      },
    );
    return;
  }
  deny(req, res, client, runtime, decision, log);
}

function deny(
  req: IncomingMessage,
  res: ServerResponse,
  client: ClientAddress,
  runtime: Runtime,
  decision: Decision & { kind: 'deny' },
  log: RequestLog,
): void {
  const { error, destination } = decision;
  log.reason = error.reason;
  const relaxable = error.status === 401 || error.status === 403;
  if (runtime.compiled.config.server.mode === 'report' && relaxable && destination) {
    // Report mode: log the would-be denial and forward without any identity from unverified credentials.
    log.decision = 'would_deny';
    return forward(req, res, client, runtime, destination, undefined, undefined, log);
  }
  sendError(res, runtime, error, log);
}

function forward(
  req: IncomingMessage,
  res: ServerResponse,
  client: ClientAddress,
  runtime: Runtime,
  destination: Destination,
  identity: Identity | undefined,
  tenant: string | undefined,
  log: RequestLog,
): void {
  const { route } = destination;
  const upstreamName = route.upstream;
  const forwarder = upstreamName === undefined ? undefined : runtime.forwarders.get(upstreamName);
  if (!forwarder || upstreamName === undefined) {
    log.reason = 'no_upstream';
    return sendError(res, runtime, undefined, log);
  }
  const { config } = runtime.compiled;
  forwarder.forward(req, res, {
    target: destination.forwardTarget,
    headers: upstreamHeaders(req.rawHeaders, {
      identity,
      tenant,
      forwardedFor: client.forwardedFor,
      proto: 'encrypted' in req.socket && req.socket.encrypted ? 'https' : 'http',
      host: req.headers.host,
    }),
    timeoutMs: config.upstreams[upstreamName]!.timeout,
    maxBody: route.maxBody,
    fail: (err) => sendError(res, runtime, err, log),
    done: (outcome) => {
      if (outcome.error) log.upstream_error = outcome.error;
    },
  });
}

/**
 * A CORS preflight is answered here and never forwarded: the methods are the matched route's `Allow` (or the
 * issuer endpoint's); no route is 404 and a bad path 400, as for any request.
 */
function preflight(
  req: IncomingMessage,
  res: ServerResponse,
  runtime: Runtime,
  cors: CorsPolicy,
  log: RequestLog,
): void {
  const target = normalizeTarget(req.url ?? '/');
  if (!target.ok) {
    const error = target.tooLong ? uriTooLong(target.reason) : invalidRequest(target.reason, 'bad_path');
    return sendError(res, runtime, error, log);
  }
  let allow: readonly string[];
  const match = matchRoute(runtime.compiled.routes, target.segments);
  const endpoint = match ? undefined : issuerEndpoint(runtime.compiled, target.path);
  if (match) {
    allow = match.route.allow;
    log.route = match.route.label;
  } else if (endpoint) {
    allow = endpoint === 'token' || endpoint === 'revocation' ? ['POST'] : ['GET', 'HEAD'];
    log.route = `issuer:${endpoint}`;
  } else {
    return sendError(res, runtime, notFound(), log);
  }
  log.decision = 'allow';
  log.reason = 'cors_preflight';
  answerPreflight(res, cors, req.headers.origin, allow);
}

/**
 * An address over `failed_auth_limit` is refused before any credential check: every request that carries a
 * credential header, and POSTs to the token and revocation endpoints (body credentials). Requests without
 * credentials (public routes, metadata) still pass.
 */
function blockedAddressMs(
  req: IncomingMessage,
  address: string | undefined,
  runtime: Runtime,
  limits: GatewayLimits,
): number {
  const wait = limits.failedAuth.addressBlockedMs(address, limits.now());
  if (wait === 0) return 0;
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) if (CREDENTIAL_HEADERS.has(raw[i]!.toLowerCase())) return wait;
  if (req.method === 'POST') {
    const endpoint = issuerEndpoint(runtime.compiled, (req.url ?? '/').split('?', 1)[0]!);
    if (endpoint === 'token' || endpoint === 'revocation') return wait;
  }
  return 0;
}

/** The log fields of a request another handler (the issuer app) answered. */
function describeDelegated(res: ServerResponse, log: RequestLog): void {
  const locals = (res as ServerResponse & { locals?: { issuerOutcome?: DelegatedOutcome } }).locals;
  const outcome = locals?.issuerOutcome;
  if (outcome?.clientId !== undefined) log.client_id = outcome.clientId;
  const status = log.status ?? 0;
  if (status >= 400 && status !== 499) {
    log.decision = 'deny';
    log.reason ??= outcome?.reason ?? `http_${status}`;
  } else if (status !== 499) {
    log.decision = 'allow';
  }
}

/** Framing the gateway refuses before anything else (request smuggling, THREATS.md "HTTP framing"). */
function checkFraming(req: IncomingMessage): OAuthError | undefined {
  // Node parses HTTP/0.9 (no version) and HTTP/2.0 request lines as if they were HTTP/1.x.
  if (req.httpVersionMajor !== 1) return httpVersionNotSupported(req.httpVersion);
  if (req.rawHeaders.length > 2 * MAX_HEADER_FIELDS) return tooManyHeaderFields(MAX_HEADER_FIELDS);
  // RFC 9112 3.2: a request with more than one Host is 400. Node keeps only the first, so count in rawHeaders.
  let hosts = 0;
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!;
    if (name.length === 4 && name.toLowerCase() === 'host') hosts++;
  }
  if (hosts > 1) return invalidRequest('more than one Host header', 'bad_framing');
  const te = req.headers['transfer-encoding'];
  if (te !== undefined && te.trim().toLowerCase() !== 'chunked') {
    return invalidRequest('unsupported Transfer-Encoding', 'bad_framing');
  }
  return undefined;
}

export function sendError(
  res: ServerResponse,
  runtime: Runtime,
  error: OAuthError | undefined,
  log?: RequestLog,
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const rendered = renderError(error, runtime.challenge);
  if (log && error) log.reason ??= error.reason;
  if (log && !error) log.reason ??= 'internal';
  res.writeHead(rendered.status, rendered.headers);
  res.end(rendered.body);
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : 'unknown error';
}
