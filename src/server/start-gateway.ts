import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Express } from 'express';
import { dirname, resolve } from 'node:path';
import { compileConfig } from '../config/compile-config.js';
import { loadConfigFile } from '../config/load-config.js';
import type { GatewayConfig } from '../config/schema.js';
import { createAdminApp } from '../admin/admin-app.js';
import { createIssuerApp } from '../issuer/create-issuer-app.js';
import { servedEndpoint } from '../issuer/issuer-paths.js';
import { AccessTtlCeiling } from '../issuer/access-ttl-ceiling.js';
import { loadKeys, type KeySet } from '../issuer/keys.js';
import { createVerifiedTokenCache } from '../issuer/verify-local-token.js';
import { GatewayMetrics } from '../metrics/gateway-metrics.js';
import { ClientRateLimiter } from '../ratelimit/client-rate-limiter.js';
import { FailedAuthLimiter } from '../ratelimit/failed-auth-limiter.js';
import { RateLimitedSecretVerifier } from '../ratelimit/rate-limited-secret-verifier.js';
import { ClientStateCache } from '../store/client-state-cache.js';
import { openStore } from '../store/open-store.js';
import { createRequestHandler, type GatewayHooks, type GatewayLimits } from './gateway.js';
import { createLogger, type Logger } from './logger.js';
import { buildRuntime, type Runtime, type Services } from './runtime.js';

export interface StartOptions {
  /** path of gateway.yaml; relative paths in it (store, keys) resolve against its folder */
  configPath?: string;
  /** an already validated config (tests, library); `baseDir` then resolves relative paths */
  config?: GatewayConfig;
  baseDir?: string;
  /** overrides server.listen, e.g. `127.0.0.1:0` in tests */
  listen?: string;
  adminListen?: string;
  logger?: Logger;
  hooks?: GatewayHooks;
  /** how long close() waits for requests in flight before it cuts connections (default 25 s) */
  drainTimeoutMs?: number;
}

export interface RunningGateway {
  url: string;
  adminUrl?: string;
  server: Server;
  adminServer?: Server;
  services: Services;
  /** Prometheus metrics of this gateway (its own Registry), served at the admin listener's /metrics */
  metrics: GatewayMetrics;
  runtime(): Runtime;
  /**
   * validates and swaps in a new config; throws ConfigError and keeps the old one when invalid. Returns the changed
   * settings that only a restart applies (listen addresses, store, issuer keys).
   */
  reload(config?: GatewayConfig): Promise<string[]>;
  /** stops accepting, lets requests in flight finish (up to `drainTimeoutMs`), then closes the store */
  close(): Promise<void>;
  logger: Logger;
}

function splitHostPort(listen: string): { host: string; port: number } {
  const at = listen.lastIndexOf(':');
  return { host: listen.slice(0, at).replace(/^\[|\]$/g, ''), port: Number(listen.slice(at + 1)) };
}

function listen(server: Server, address: string): Promise<string> {
  const { host, port } = splitHostPort(address);
  return new Promise((resolveUrl, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const a = server.address() as AddressInfo;
      resolveUrl(`http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`);
    });
  });
}

/** Settings a reload cannot apply: they are read once at start. */
function restartOnlyChanges(before: GatewayConfig, after: GatewayConfig): string[] {
  const changed: string[] = [];
  if (before.server.listen !== after.server.listen) changed.push('server.listen');
  if (before.server.admin_listen !== after.server.admin_listen) changed.push('server.admin_listen');
  if (before.store !== after.store) changed.push('store');
  if (before.issuer?.keys !== after.issuer?.keys || (before.issuer === undefined) !== (after.issuer === undefined)) {
    changed.push('issuer (enabling, disabling or its keys)');
  }
  return changed;
}

/**
 * Counts the requests in flight on each connection, so a drain can close every connection that has none: Node's
 * `closeIdleConnections` leaves a socket that connected but never sent a request, and one such socket held the
 * drain for its whole timeout (issue 10).
 */
function trackConnections(server: Server): () => void {
  const open = new Map<Socket, number>();
  server.on('connection', (socket: Socket) => {
    open.set(socket, 0);
    socket.once('close', () => open.delete(socket));
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    open.set(socket, (open.get(socket) ?? 0) + 1);
    res.once('close', () => {
      const n = open.get(socket);
      if (n !== undefined) open.set(socket, n - 1);
    });
  });
  return () => {
    for (const [socket, inFlight] of open) if (inFlight <= 0) socket.destroy();
  };
}

const closeQuietConnections = new WeakMap<Server, () => void>();

/**
 * Closes a server: stop accepting, close every connection without a request in flight at once and the others as
 * their requests finish, cut what is left after `timeoutMs`.
 */
function drain(server: Server, timeoutMs: number): Promise<void> {
  return new Promise<void>((done) => {
    if (!server.listening) return done();
    const closeQuiet = () => {
      server.closeIdleConnections();
      closeQuietConnections.get(server)?.();
    };
    const idle = setInterval(closeQuiet, 100);
    const cut = setTimeout(() => server.closeAllConnections(), timeoutMs);
    server.close(() => {
      clearInterval(idle);
      clearTimeout(cut);
      done();
    });
    closeQuiet();
  });
}

/** Lets `drain` close this server's quiet connections at once. */
function tracked(server: Server): Server {
  closeQuietConnections.set(server, trackConnections(server));
  return server;
}

/** Starts the standalone gateway: public listener (node:http) and, when configured, the admin listener. */
export async function startGateway(options: StartOptions): Promise<RunningGateway> {
  const logger = options.logger ?? createLogger();
  const configPath = options.configPath ? resolve(options.configPath) : undefined;
  const baseDir = options.baseDir ?? (configPath ? dirname(configPath) : process.cwd());
  const load = (): GatewayConfig => options.config ?? loadConfigFile(configPath!, { serving: true });
  const compiled = compileConfig(load());
  const { config } = compiled;

  const store = await openStore(config.store, baseDir);
  try {
    await store.probeWrite();
  } catch (err) {
    // A store that can be read but not written (read-only file, another owner, full disk, a stale lock) would
    // report ready and then refuse every revocation: refuse to start instead (a shared store that declares
    // `degraded` starts and rides the outage out).
    if (store.whenUnwritable !== 'degraded') {
      await store.close().catch(() => undefined);
      throw new Error(`the store cannot be written: ${(err as Error).message}`, { cause: err });
    }
    logger.warn({ err: (err as Error).message }, 'the store cannot be written; starting degraded');
  }
  const onStoreUnavailable = (cause: string, where: string) =>
    logger.error({ err: cause, where }, 'store unavailable; answered 503');
  let server: Server | undefined;
  let adminServer: Server | undefined;
  try {
    let keys: KeySet | undefined;
    if (config.issuer) keys = await loadKeys(resolve(baseDir, config.issuer.keys));
    const now = Date.now;
    let runtime: Runtime;
    const current = () => runtime;
    const failedAuth = new FailedAuthLimiter(store, () => runtime.compiled.config.server.failed_auth_limit);
    const services: Services = {
      store,
      keys,
      clientSecrets: new RateLimitedSecretVerifier(failedAuth, now),
      clientStates: new ClientStateCache(store),
      now,
      verifiedTokens: createVerifiedTokenCache(),
      accessTtl: new AccessTtlCeiling(config.issuer?.access_token_ttl ?? 0),
    };
    runtime = buildRuntime(compiled, services);
    const limits: GatewayLimits = { clients: new ClientRateLimiter(), failedAuth, now };
    const metrics = new GatewayMetrics(current);

    const countFailure = (clientId: string | undefined, address: string | undefined) => {
      failedAuth.recordFailure(address, clientId, now()).catch((err: unknown) => {
        logger.error({ err: err instanceof Error ? err.message : 'unknown error' }, 'failed-auth counter unavailable');
      });
    };
    const issuerApp = createIssuerApp({
      compiled: () => runtime.compiled,
      store,
      keys,
      clientSecrets: services.clientSecrets,
      clientStates: services.clientStates,
      now,
      onFailedClientAuth: countFailure,
      onStoreUnavailable,
    });
    const before: GatewayHooks['before'] = (req, res, rt) => {
      const taken = options.hooks?.before?.(req, res, rt);
      if (taken) return taken;
      const endpoint = servedEndpoint(rt.compiled, (req.url ?? '/').split('?', 1)[0]!, keys !== undefined);
      if (!endpoint) return false;
      issuerApp(req, res);
      return `issuer:${endpoint}`;
    };
    const onFinished: GatewayHooks['onFinished'] = (log, rt) => {
      metrics.observe(log);
      options.hooks?.onFinished?.(log, rt);
    };
    server = tracked(
      createServer(
        // Node enforces headersTimeout/requestTimeout only when it checks connections (default every 30 s): check
        // every second, so a client trickling its headers is cut after ~10 s, not ~30.
        {
          headersTimeout: 10_000,
          requestTimeout: 120_000,
          keepAliveTimeout: 5_000,
          connectionsCheckingInterval: 1_000,
        },
        createRequestHandler(current, logger, { before, onFinished }, limits),
      ),
    );
    server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
      // Malformed HTTP (smuggling attempts, oversized headers) or a client too slow to send its request: a bare
      // 400/431/408, never a crash.
      logger.debug({ code: err.code }, 'client error');
      if (socket.writable && !socket.destroyed) {
        const status =
          err.code === 'HPE_HEADER_OVERFLOW'
            ? '431 Request Header Fields Too Large'
            : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
              ? '408 Request Timeout'
              : '400 Bad Request';
        socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      } else socket.destroy();
    });

    const url = await listen(server, options.listen ?? config.server.listen);
    let adminUrl: string | undefined;
    const adminAddress = options.adminListen ?? config.server.admin_listen;
    if (adminAddress) {
      const extend = (app: Express) => {
        app.get('/metrics', async (_req, res) => {
          res.set({ 'Content-Type': metrics.contentType, 'Cache-Control': 'no-store' }).send(await metrics.metrics());
        });
      };
      adminServer = tracked(createServer(createAdminApp({ runtime: current, services, extend, onStoreUnavailable })));
      adminUrl = await listen(adminServer, adminAddress);
    }
    logger.info({ url, admin_url: adminUrl }, 'listening');

    const publicServer = server;
    const admin = adminServer;
    const drainTimeoutMs = options.drainTimeoutMs ?? 25_000;
    return {
      url,
      adminUrl,
      server: publicServer,
      adminServer: admin,
      services,
      metrics,
      logger,
      runtime: current,
      async reload(next?: GatewayConfig) {
        const nextCompiled = compileConfig(next ?? load());
        const previous = runtime;
        if (nextCompiled.config.issuer) services.accessTtl?.update(nextCompiled.config.issuer.access_token_ttl, now());
        runtime = buildRuntime(nextCompiled, services);
        services.clientSecrets.forget();
        limits.clients.retain(nextCompiled.clients);
        metrics.retire(previous);
        // Requests in flight keep the old runtime; close its resources once they had time to finish.
        setTimeout(() => previous.close(), 120_000).unref();
        return restartOnlyChanges(previous.compiled.config, nextCompiled.config);
      },
      async close() {
        await Promise.all([drain(publicServer, drainTimeoutMs), admin ? drain(admin, drainTimeoutMs) : undefined]);
        runtime.close();
        await store.close();
      },
    };
  } catch (err) {
    // A port in use or unreadable keys: release what was opened, so the process can exit with the message.
    for (const s of [server, adminServer]) if (s?.listening) s.close();
    await store.close().catch(() => undefined);
    throw err;
  }
}
