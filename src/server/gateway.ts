import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Identity } from '../auth/identity.js';
import { invalidRequest, payloadTooLarge, type OAuthError } from '../errors/oauth-error.js';
import { renderError } from '../errors/render-error.js';
import { decide, type Decision, type Destination } from '../pipeline/decide.js';
import { upstreamHeaders } from '../proxy/upstream-headers.js';
import type { Logger } from './logger.js';
import type { Runtime } from './runtime.js';

/** The parts of a request log line (SPEC.md 7): one JSON line per request. */
export interface RequestLog {
  method: string;
  path?: string;
  route?: string;
  client_id?: string;
  auth_method?: string;
  decision: 'allow' | 'deny' | 'would_deny';
  reason?: string;
  status?: number;
  latency_ms?: number;
  upstream_error?: string;
}

export interface GatewayHooks {
  /** the request should go to another handler first (token endpoint, metadata, CORS); return true when it took it */
  before?: (req: IncomingMessage, res: ServerResponse, runtime: Runtime) => boolean;
  onFinished?: (log: RequestLog, runtime: Runtime) => void;
}

/**
 * The standalone gateway's request handler on plain node:http: decide, then forward or render the error.
 * `current()` is read once per request, so a reload never changes the config under a request in flight.
 */
export function createRequestHandler(current: () => Runtime, logger: Logger, hooks: GatewayHooks = {}) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const runtime = current();
    const started = process.hrtime.bigint();
    const log: RequestLog = { method: req.method ?? 'GET', decision: 'deny' };
    res.once('finish', () => {
      log.status = res.statusCode;
      log.latency_ms = Number(process.hrtime.bigint() - started) / 1e6;
      logger.info(log, 'request');
      hooks.onFinished?.(log, runtime);
    });
    res.once('close', () => {
      if (!res.writableFinished) {
        log.status = res.headersSent ? res.statusCode : 499;
        log.reason ??= 'client_closed';
        log.latency_ms = Number(process.hrtime.bigint() - started) / 1e6;
        logger.info(log, 'request');
        hooks.onFinished?.(log, runtime);
      }
    });

    const framing = checkFraming(req);
    if (framing) return sendError(res, runtime, framing, log);
    if (hooks.before?.(req, res, runtime)) {
      log.decision = 'allow';
      log.route = 'gateway';
      return;
    }

    decide({ method: log.method, target: req.url ?? '/', rawHeaders: req.rawHeaders }, runtime.auth).then(
      (decision) => handleDecision(req, res, runtime, decision, log, logger),
      (err: unknown) => {
        logger.error({ err: describe(err) }, 'decision failed');
        sendError(res, runtime, undefined, log);
      },
    );
  };
}

function handleDecision(
  req: IncomingMessage,
  res: ServerResponse,
  runtime: Runtime,
  decision: Decision,
  log: RequestLog,
  logger: Logger,
): void {
  const destination = decision.destination;
  if (destination) {
    log.route = destination.route.label;
    log.path = destination.forwardTarget.split('?', 1)[0];
  }
  if (decision.identity) {
    log.client_id = decision.identity.clientId;
    log.auth_method = decision.identity.method;
  }
  if (decision.kind === 'allow') {
    log.decision = 'allow';
    return forward(req, res, runtime, destination!, decision.identity, decision.tenant, log);
  }
  const { error } = decision;
  log.reason = error.reason;
  const relaxable = error.status === 401 || error.status === 403;
  if (runtime.compiled.config.server.mode === 'report' && relaxable && destination) {
    // Report mode: log the would-be denial and forward without any identity from unverified credentials.
    log.decision = 'would_deny';
    logger.warn({ route: log.route, reason: error.reason, status: error.status }, 'would deny');
    return forward(req, res, runtime, destination, undefined, undefined, log);
  }
  sendError(res, runtime, error, log);
}

function forward(
  req: IncomingMessage,
  res: ServerResponse,
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
  const declared = req.headers['content-length'];
  if (route.maxBody !== undefined && declared !== undefined && Number(declared) > route.maxBody) {
    res.shouldKeepAlive = false;
    return sendError(res, runtime, payloadTooLarge(route.maxBody), log);
  }
  const { config } = runtime.compiled;
  forwarder.forward(req, res, {
    target: destination.forwardTarget,
    headers: upstreamHeaders(req.rawHeaders, {
      identity,
      tenant,
      remoteAddress: req.socket.remoteAddress,
      proto: 'encrypted' in req.socket && req.socket.encrypted ? 'https' : 'http',
      host: req.headers.host,
      trustForwardedFor: config.server.trust_forwarded_for,
    }),
    timeoutMs: config.upstreams[upstreamName]!.timeout,
    maxBody: route.maxBody,
    fail: (err) => sendError(res, runtime, err, log),
    done: (outcome) => {
      if (outcome.error) log.upstream_error = outcome.error;
    },
  });
}

/** Framing the gateway refuses before anything else (request smuggling, THREATS.md "HTTP framing"). */
function checkFraming(req: IncomingMessage): OAuthError | undefined {
  const te = req.headers['transfer-encoding'];
  if (te !== undefined && te.trim().toLowerCase() !== 'chunked') {
    return invalidRequest('unsupported Transfer-Encoding', 'bad_framing');
  }
  return undefined;
}

export function sendError(res: ServerResponse, runtime: Runtime, error: OAuthError | undefined, log?: RequestLog): void {
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
