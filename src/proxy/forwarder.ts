import {
  Agent as HttpAgent,
  request as httpRequest,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type ServerResponse,
} from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
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

/**
 * Streams allowed requests to one upstream over a keep-alive agent, straight on node:http (no proxy library on the
 * hot path: a profile showed http-proxy's per-request setup, URL parsing and header copying at a tenth of the
 * gateway's CPU). Errors are rendered by the gateway's own renderer and never carry internals: a timeout is 504, a
 * refusal or reset 502, a streamed body past `max_body` 413. The upstream's status, headers and body go back
 * unchanged, minus hop-by-hop fields.
 */
export class Forwarder {
  private readonly agent: HttpAgent;
  private readonly request: typeof httpRequest;
  private readonly hostname: string;
  private readonly port: number | undefined;
  /** the upstream URL's path, prepended to every forwarded target ('' for `/`) */
  private readonly basePath: string;

  constructor(url: string) {
    const target = new URL(url);
    const https = target.protocol === 'https:';
    const options = { keepAlive: true, maxSockets: 512, maxFreeSockets: 64, scheduling: 'lifo' as const };
    this.agent = https ? new HttpsAgent(options) : new HttpAgent(options);
    this.request = https ? (httpsRequest as unknown as typeof httpRequest) : httpRequest;
    this.hostname = target.hostname.replace(/^\[|\]$/g, '');
    this.port = target.port === '' ? undefined : Number(target.port);
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
    let timedOut = false;
    let tooLarge = false;
    let settled = false;
    const proxyReq = this.request({
      agent: this.agent,
      hostname: this.hostname,
      port: this.port,
      method: req.method,
      path: this.basePath + request.target,
      // no Host here: Node sets the upstream's own host:port (the gateway's Host goes as X-Forwarded-Host)
      headers: request.headers,
    });

    const onError = (err: Error) => {
      if (settled) return;
      settled = true;
      if (res.destroyed && !res.writableFinished) return; // the client went away first: nothing to answer
      const error = tooLarge ? payloadTooLarge(request.maxBody ?? 0) : timedOut ? gatewayTimeout() : badGateway();
      request.done?.({ error: error.reason });
      if (!res.headersSent) {
        // Do not read the rest of an oversized or abandoned body: close the connection after this answer.
        res.shouldKeepAlive = false;
        request.fail(error);
      } else {
        res.destroy(err);
      }
    };

    proxyReq.setTimeout(request.timeoutMs, () => {
      timedOut = true;
      proxyReq.destroy(new Error('upstream timeout'));
    });
    proxyReq.on('error', onError);
    proxyReq.on('response', (proxyRes) => {
      request.done?.({ status: proxyRes.statusCode });
      proxyRes.on('error', onError);
      const raw = proxyRes.rawHeaders;
      const headers: string[] = [];
      let connectionNamed: Set<string> | undefined;
      for (let i = 0; i < raw.length; i += 2) {
        if (raw[i]!.length === 10 && raw[i]!.toLowerCase() === 'connection') {
          connectionNamed ??= new Set();
          for (const name of raw[i + 1]!.split(',')) connectionNamed.add(name.trim().toLowerCase());
        }
      }
      for (let i = 0; i < raw.length; i += 2) {
        const lower = raw[i]!.toLowerCase();
        if (RESPONSE_HOP_BY_HOP.has(lower) || connectionNamed?.has(lower)) continue;
        headers.push(raw[i]!, raw[i + 1]!);
      }
      res.writeHead(proxyRes.statusCode ?? 502, proxyRes.statusMessage, headers);
      proxyRes.pipe(res);
      proxyRes.once('end', () => (settled = true));
    });
    // The client went away: stop the upstream exchange too.
    res.once('close', () => {
      if (!res.writableFinished && !proxyReq.destroyed) proxyReq.destroy();
    });

    if (!hasBody(req)) {
      proxyReq.end();
      return;
    }
    if (limit !== undefined && declared === undefined) {
      let seen = 0;
      req.on('data', (chunk: Buffer) => {
        seen += chunk.length;
        if (seen > limit && !tooLarge) {
          tooLarge = true;
          req.unpipe(proxyReq);
          proxyReq.destroy(new Error('body too large'));
        }
      });
    }
    req.pipe(proxyReq);
  }

  close(): void {
    this.agent.destroy();
  }
}

/** A request without Content-Length (or with 0) and without Transfer-Encoding has no body (RFC 9112 6.3). */
function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}
