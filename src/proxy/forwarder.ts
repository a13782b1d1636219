import { Agent, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse, type ClientRequest } from 'node:http';
import { createProxyMiddleware, type RequestHandler } from 'http-proxy-middleware';
import { badGateway, gatewayTimeout, payloadTooLarge, type OAuthError } from '../errors/oauth-error.js';

export interface ForwardRequest {
  /** normalized path (after strip_prefix) plus raw query */
  target: string;
  headers: OutgoingHttpHeaders;
  timeoutMs: number;
  /** bytes; enforced while streaming a body without Content-Length */
  maxBody?: number;
  /** renders a gateway error while the response has not started */
  fail: (err: OAuthError) => void;
  /** called once the upstream answered (status) or failed (error reason) */
  done?: (outcome: { status?: number; error?: string }) => void;
}

interface InFlight {
  request: ForwardRequest;
  timedOut: boolean;
  tooLarge: boolean;
}

/**
 * Streams allowed requests to one upstream with http-proxy-middleware on a plain node:http request (no Express on
 * the hot path). Its default plugins are ejected: errors are rendered by the gateway's own renderer and never carry
 * internals; a timeout is 504, a refusal or reset 502.
 */
export class Forwarder {
  private readonly inFlight = new WeakMap<IncomingMessage, InFlight>();
  private readonly agent: Agent;
  private readonly middleware: RequestHandler;

  constructor(url: string) {
    this.agent = new Agent({ keepAlive: true, maxSockets: 512, maxFreeSockets: 64, scheduling: 'lifo' });
    this.middleware = createProxyMiddleware<IncomingMessage, ServerResponse>({
      target: url,
      changeOrigin: true,
      ejectPlugins: true,
      agent: this.agent,
      followRedirects: false,
      plugins: [
        (proxy) => {
          proxy.on('proxyReq', (proxyReq, req) => this.onProxyReq(proxyReq, req));
          proxy.on('proxyRes', (proxyRes, req) => this.inFlight.get(req)?.request.done?.({ status: proxyRes.statusCode }));
          proxy.on('error', (err, req, res) => this.onError(err, req, res as ServerResponse));
        },
      ],
    });
  }

  forward(req: IncomingMessage, res: ServerResponse, request: ForwardRequest): void {
    this.inFlight.set(req, { request, timedOut: false, tooLarge: false });
    req.url = request.target;
    // http-proxy copies req.headers into the upstream request: give it the filtered set.
    req.headers = request.headers as IncomingMessage['headers'];
    void this.middleware(req, res, (err?: unknown) => this.onError(err as Error, req, res));
  }

  close(): void {
    this.agent.destroy();
  }

  private onProxyReq(proxyReq: ClientRequest, req: IncomingMessage): void {
    const state = this.inFlight.get(req);
    if (!state) return;
    proxyReq.setTimeout(state.request.timeoutMs, () => {
      state.timedOut = true;
      proxyReq.destroy(new Error('upstream timeout'));
    });
    const limit = state.request.maxBody;
    if (limit !== undefined && req.headers['content-length'] === undefined) {
      let seen = 0;
      req.on('data', (chunk: Buffer) => {
        seen += chunk.length;
        if (seen > limit && !state.tooLarge) {
          state.tooLarge = true;
          req.unpipe(proxyReq);
          proxyReq.destroy(new Error('body too large'));
        }
      });
    }
  }

  private onError(err: Error | undefined, req: IncomingMessage, res: ServerResponse): void {
    const state = this.inFlight.get(req);
    if (!state) return;
    this.inFlight.delete(req);
    const error = state.tooLarge
      ? payloadTooLarge(state.request.maxBody ?? 0)
      : state.timedOut
        ? gatewayTimeout()
        : badGateway();
    state.request.done?.({ error: error.reason });
    if (!res.headersSent && !res.destroyed) {
      // Do not read the rest of an oversized or abandoned body: close the connection after this answer.
      res.shouldKeepAlive = false;
      state.request.fail(error);
    } else {
      res.destroy(err);
    }
  }
}
