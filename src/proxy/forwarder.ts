import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { Pool, type Dispatcher } from 'undici';
import { badGateway, gatewayTimeout, payloadTooLarge, type OAuthError } from '../errors/oauth-error.js';

export interface ForwardRequest {
  /** normalized path (after strip_prefix) plus raw query */
  target: string;
  headers: OutgoingHttpHeaders;
  timeoutMs: number;
  /** bytes: a larger Content-Length is 413 before forwarding; a body without one is cut when it grows past it */
  maxBody?: number;
  /** renders a gateway error while the response has not started */
  fail: (err: OAuthError) => void;
  /** called once the upstream answered (status) or failed (error reason) */
  done?: (outcome: { status?: number; error?: string }) => void;
}

/**
 * Response fields that describe the upstream connection, not the message (RFC 9110 7.6.1): never copied to the
 * client. Node frames the client response itself (Content-Length when the upstream sent one, else chunked).
 */
const RESPONSE_HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'trailer',
  'te',
]);

/** undici's codes for "no answer in time": connecting, waiting for the headers, waiting for the next body chunk */
const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/** An upstream's connections: as many as node:http's agent allowed before, never pipelined. */
const MAX_CONNECTIONS = 512;

/**
 * Streams allowed requests to one upstream over undici's connection pool (its low-level `dispatch`, no stream
 * wrapper per request). node:http's client was the largest cost left on the hot path: undici took 26 us of CPU off
 * each cached-Bearer request (docs/performance.md, "What moved the numbers in this round"). Errors are rendered by the
 * gateway's own renderer and never carry internals: a timeout is 504, a refusal or reset 502, a streamed body past
 * `max_body` 413. The upstream's status, headers and body go back unchanged, minus hop-by-hop fields.
 */
export class Forwarder {
  private readonly pool: Pool;
  /** the upstream URL's path, prepended to every forwarded target ('' for `/`) */
  private readonly basePath: string;

  constructor(url: string, connectTimeoutMs = 10_000) {
    const target = new URL(url);
    // no Host from the client: undici sends the upstream's own host:port (the gateway's Host goes as X-Forwarded-Host)
    this.pool = new Pool(target.origin, {
      connections: MAX_CONNECTIONS,
      pipelining: 1,
      connect: { timeout: connectTimeoutMs },
    });
    this.basePath = target.pathname.replace(/\/$/, '');
  }

  forward(req: IncomingMessage, res: ServerResponse, request: ForwardRequest): void {
    const limit = request.maxBody;
    const declared = req.headers['content-length'];
    if (limit !== undefined && declared !== undefined && Number(declared) > limit) {
      // Refused before the upstream hears of it; the body is never read, so the connection closes after the answer.
      res.shouldKeepAlive = false;
      request.fail(payloadTooLarge(limit));
      return;
    }
    const headers = request.headers;
    // undici frames a streamed body itself (chunked without a Content-Length) and refuses a Transfer-Encoding field
    if (headers['transfer-encoding'] !== undefined) delete headers['transfer-encoding'];
    const exchange = new Exchange(res, request);
    let body: Readable | null = null;
    if (hasBody(req))
      body = limit !== undefined && declared === undefined ? Readable.from(exchange.limited(req, limit)) : req;
    res.once('close', exchange.clientClosed);
    this.pool.dispatch(
      {
        path: this.basePath + request.target,
        method: req.method as Dispatcher.HttpMethod,
        headers: headers as IncomingHttpHeaders,
        body,
        headersTimeout: request.timeoutMs,
        bodyTimeout: request.timeoutMs,
      },
      exchange,
    );
  }

  close(): void {
    void this.pool.destroy();
  }
}

/** One forwarded request as undici's dispatch handler: the upstream's answer written to the client as it comes. */
class Exchange implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | undefined;
  private settled = false;
  private tooLarge = false;
  /** the client went away before the exchange was on a connection */
  private abandoned = false;
  private waitingForDrain = false;
  /** body bytes still to come when the upstream sent Content-Length (else NaN) */
  private remaining = Number.NaN;
  private ended = false;

  constructor(
    private readonly res: ServerResponse,
    private readonly request: ForwardRequest,
  ) {}

  /**
   * A body without Content-Length, read only as undici sends it and cut once it grows past `limit` (answered 413):
   * throwing here fails the exchange before the chunk that crossed the limit is sent.
   */
  async *limited(req: IncomingMessage, limit: number): AsyncIterable<Buffer> {
    let seen = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      seen += chunk.length;
      if (seen > limit) {
        this.tooLarge = true;
        throw new Error('body too large');
      }
      yield chunk;
    }
  }

  /** The client went away: stop the upstream exchange too. */
  readonly clientClosed = (): void => {
    if (this.res.writableFinished || this.settled) return;
    this.abandoned = true;
    this.abort(new Error('client went away'));
  };

  private abort(reason: Error): void {
    this.controller?.abort(reason);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.abandoned) controller.abort(new Error('client went away'));
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: IncomingHttpHeaders,
    statusMessage?: string,
  ): void {
    // 1xx (103 Early Hints) are informational: node:http's client dropped them too
    if (statusCode < 200) return;
    this.request.done?.({ status: statusCode });
    const connection = headers.connection;
    let named: Set<string> | undefined;
    if (connection !== undefined) {
      named = new Set();
      for (const value of Array.isArray(connection) ? connection : [connection])
        for (const name of value.split(',')) named.add(name.trim().toLowerCase());
    }
    for (const name in headers) {
      if (RESPONSE_HOP_BY_HOP.has(name) || named?.has(name)) delete headers[name];
    }
    const length = headers['content-length'];
    if (typeof length === 'string') this.remaining = Number(length);
    this.res.writeHead(statusCode, statusMessage, headers);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.remaining -= chunk.length;
    if (this.remaining === 0) {
      // the last chunk of a body of known length: one end() instead of write() and end()
      this.ended = true;
      this.res.end(chunk);
      return;
    }
    if (this.res.write(chunk)) return;
    // a slow client: stop reading the upstream until the client has taken what is buffered
    controller.pause();
    if (!this.waitingForDrain) {
      this.waitingForDrain = true;
      this.res.on('drain', () => controller.resume());
    }
  }

  onResponseEnd(): void {
    this.settled = true;
    if (!this.ended) this.res.end();
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    if (this.settled) return;
    this.settled = true;
    const res = this.res;
    if (this.abandoned || (res.destroyed && !res.writableFinished)) return; // the client went first: nothing to answer
    const code = (err as { code?: string }).code;
    const error = this.tooLarge
      ? payloadTooLarge(this.request.maxBody ?? 0)
      : code !== undefined && TIMEOUT_CODES.has(code)
        ? gatewayTimeout()
        : badGateway();
    this.request.done?.({ error: error.reason });
    if (!res.headersSent) {
      // Do not read the rest of an oversized or abandoned body: close the connection after this answer.
      res.shouldKeepAlive = false;
      this.request.fail(error);
    } else {
      res.destroy(err);
    }
  }
}

/** A request without Content-Length (or with 0) and without Transfer-Encoding has no body (RFC 9112 6.3). */
function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}
