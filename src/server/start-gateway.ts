import {
  createServer,
  type IncomingMessage,
  type RequestListener,
  type Server as HttpServer,
  type ServerOptions,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Express } from 'express';
import { dirname, resolve } from 'node:path';
import { localIssuerOf } from '../auth/identity.js';
import { compileConfig } from '../config/compile-config.js';
import { loadConfigFile } from '../config/load-config.js';
import type { GatewayConfig } from '../config/schema.js';
import { createAdminApp } from '../admin/admin-app.js';
import type { ConsoleSessionOptions } from '../admin/console/console-sessions.js';
import { ClientRegistry } from '../admin/client-registry.js';
import { toClientEntry } from '../store/stored-client.js';
import { UsageRecorder } from '../admin/usage-recorder.js';
import type { ClientEntry } from '../config/compile-config.js';
import { adminListenerProblem } from '../config/licence-rules.js';
import { createIssuerApp } from '../issuer/create-issuer-app.js';
import { servedEndpoint } from '../issuer/issuer-paths.js';
import { KeyRing, type KeyReloadEvent } from '../issuer/key-ring.js';
import { AccessTtlCeiling } from '../issuer/access-ttl-ceiling.js';
import { createPeekCache } from '../auth/peek-cache.js';
import { createVerifiedTokenCache } from '../issuer/verify-local-token.js';
import { GatewayMetrics } from '../metrics/gateway-metrics.js';
import { ClientRateLimiter } from '../ratelimit/client-rate-limiter.js';
import { FailedAuthLimiter } from '../ratelimit/failed-auth-limiter.js';
import { RateLimitedSecretVerifier } from '../ratelimit/rate-limited-secret-verifier.js';
import { ClientStateCache } from '../store/client-state-cache.js';
import { openStore } from '../store/open-store.js';
import { RedisStore } from '../store/redis-store.js';
import { createRequestHandler, type GatewayHooks, type GatewayLimits } from './gateway.js';
import { createLogger, type Logger } from './logger.js';
import { buildRuntime, withClients, type Runtime, type Services } from '../runtime/runtime.js';
import { TlsFiles } from './tls-files.js';

/** a listener: node:http, or node:https with `server.tls` */
export type Server = HttpServer | HttpsServer;

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
  /** the console's session lifetimes (default 15 min idle, 8 h at most); tests shorten them */
  console?: ConsoleSessionOptions;
  /**
   * which listeners this process opens (server.workers): `public` in a worker, `admin` in the cluster's primary,
   * `both` otherwise (default)
   */
  listeners?: 'both' | 'public' | 'admin';
  /** what the admin listener's /metrics serves instead of this process's registry (the primary: every worker's) */
  metricsSource?: () => Promise<string>;
  /** how many processes split each client's rate_limit (server.workers) */
  rateShare?: number;
}

export interface RunningGateway {
  /** the public listener's URL; '' when this process opens none (`listeners: 'admin'`, the cluster's primary) */
  url: string;
  adminUrl?: string;
  server: Server;
  adminServer?: Server;
  services: Services;
  /** the clients created through the admin API; a change feed calls `invalidate(id?)` on it */
  clientRegistry: ClientRegistry;
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
      const scheme = 'setSecureContext' in server ? 'https' : 'http';
      resolveUrl(`${scheme}://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`);
    });
  });
}

/** Settings a reload cannot apply: they are read once at start. */
function restartOnlyChanges(before: GatewayConfig, after: GatewayConfig): string[] {
  const changed: string[] = [];
  if (before.server.listen !== after.server.listen) changed.push('server.listen');
  if (before.server.admin_listen !== after.server.admin_listen) changed.push('server.admin_listen');
  if (before.server.workers !== after.server.workers) changed.push('server.workers');
  if (before.store !== after.store) changed.push('store');
  if (before.issuer?.keys !== after.issuer?.keys || (before.issuer === undefined) !== (after.issuer === undefined)) {
    changed.push('issuer (enabling, disabling or its keys)');
  }
  const tls = (c: GatewayConfig) => (c.server.tls ? `${c.server.tls.cert}\n${c.server.tls.key}` : '');
  if (tls(before) !== tls(after)) changed.push('server.tls (enabling, disabling or its file paths)');
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

/** The issuer's key folder as a KeyRing whose reloads are logged (kids only: they are public). */
async function openKeyRing(dir: string, logger: Logger, metrics: GatewayMetrics): Promise<KeyRing> {
  const onReload = (e: KeyReloadEvent) => {
    metrics.fileReloaded('issuer_keys', e.reason, e.ok);
    if (!e.ok) {
      logger.error({ reason: e.reason, err: e.error }, 'issuer key reload failed; keeping the previous keys');
      return;
    }
    const fields = { reason: e.reason, keys: e.keys, signing_kid: e.signingKid, added: e.added, removed: e.removed };
    logger.info(fields, 'issuer keys reloaded');
    if (e.skipped.length > 0) logger.warn({ skipped: e.skipped }, 'too many key files; the oldest are ignored');
  };
  const { ring, skipped } = await KeyRing.open(dir, { onReload });
  if (skipped.length > 0) logger.warn({ skipped }, 'too many key files; the oldest are ignored');
  return ring;
}

/**
 * True when the request line Node refused names an HTTP major version other than 1 (`HTTP/2.0`, `HTTP/3.0`, the h2
 * preface `PRI * HTTP/2.0`): RFC 9110 15.6.6 answers those 505, not 400.
 */
function otherHttpVersion(err: NodeJS.ErrnoException & { rawPacket?: unknown }): boolean {
  if (!Buffer.isBuffer(err.rawPacket)) return false;
  const line = /^[!-~]+ [!-~]+ HTTP\/(\d+)\.\d+\r?\n/.exec(err.rawPacket.subarray(0, 8192).toString('latin1'));
  return line !== null && line[1] !== '1';
}

/** Lets `drain` close this server's quiet connections at once. */
function tracked(server: Server): Server {
  closeQuietConnections.set(server, trackConnections(server));
  return server;
}

/** Starts the standalone gateway: public listener and, when configured, the admin listener (node:https with server.tls). */
export async function startGateway(options: StartOptions): Promise<RunningGateway> {
  const logger = options.logger ?? createLogger();
  const configPath = options.configPath ? resolve(options.configPath) : undefined;
  const baseDir = options.baseDir ?? (configPath ? dirname(configPath) : process.cwd());
  const load = (): GatewayConfig => options.config ?? loadConfigFile(configPath!, { serving: true });
  const fileConfig = load();
  const config = fileConfig;
  const opens = options.listeners ?? 'both';
  const adminAddress = opens === 'public' ? undefined : (options.adminListen ?? config.server.admin_listen);
  const adminProblem = adminAddress ? adminListenerProblem(config, adminAddress) : undefined;
  if (adminProblem) throw new Error(adminProblem);

  const store = await openStore(config.store, baseDir, {
    prefix: config.store_options.prefix,
    commandTimeoutMs: config.store_options.command_timeout,
    log: (level, message) => logger[level]({ store: 'redis' }, message),
  });
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
  const instances = () => (store instanceof RedisStore ? store.instances() : 1);
  let server: Server | undefined;
  let adminServer: Server | undefined;
  let registry: ClientRegistry | undefined;
  let runtime: Runtime | undefined;
  const current = () => runtime!;
  const metrics = new GatewayMetrics(current, {
    storeUp: () => (store.health === undefined || store.health().state === 'up' ? 1 : 0),
  });
  const tls = config.server.tls
    ? new TlsFiles(resolve(baseDir, config.server.tls.cert), resolve(baseDir, config.server.tls.key), logger, (r, ok) =>
        metrics.fileReloaded('tls', r, ok),
      )
    : undefined;
  try {
    /** node:http, or node:https with the TLS pair read now (a bad pair fails the start with its file name) */
    const listener = (handler: RequestListener, httpOptions: ServerOptions = {}): Server => {
      if (!tls) return createServer(httpOptions, handler);
      const https = createHttpsServer({ ...httpOptions, ...tls.read() }, handler);
      https.on('tlsClientError', (err: NodeJS.ErrnoException) =>
        logger.debug({ code: err.code }, 'TLS handshake failed'),
      );
      tls.serve(https);
      return https;
    };
    let keys: KeyRing | undefined;
    if (config.issuer) keys = await openKeyRing(resolve(baseDir, config.issuer.keys), logger, metrics);
    const now = Date.now;
    const docs = store;
    // Clients created through the admin API: loaded before the listeners open, then kept current in memory.
    let storeClients: ClientEntry[] = [];
    let baseConfig = fileConfig;
    registry = new ClientRegistry(
      docs,
      (clients) => {
        storeClients = clients.map(toClientEntry);
        if (!runtime) return;
        const next = compileConfig(baseConfig, storeClients);
        runtime = withClients(runtime, next);
        limits.clients.retain(localIssuerOf(next.config), next.clients);
      },
      {
        onError: (err: unknown) =>
          logger.warn({ err: err instanceof Error ? err.message : 'unknown error' }, 'client registry refresh failed'),
      },
    );
    await registry.start();
    const clientRegistry = registry;
    const usage = new UsageRecorder(docs, now);
    const compiled = compileConfig(fileConfig, storeClients);
    const failedAuth = new FailedAuthLimiter(
      store,
      () => current().compiled.config.server.failed_auth_limit,
      instances,
    );
    const services: Services = {
      store,
      keys,
      clientSecrets: new RateLimitedSecretVerifier(failedAuth, now),
      clientStates: new ClientStateCache(store, { staleMaxMs: config.store_options.stale_max }),
      now,
      onApiKeyUsed: (clientId, keyId) => usage.record(clientId, keyId),
      verifiedTokens: createVerifiedTokenCache(),
      peeks: createPeekCache(),
      accessTtl: new AccessTtlCeiling(config.issuer?.access_token_ttl ?? 0),
    };
    services.clientSecrets.onUsed = (clientId, secretId) => usage.record(clientId, secretId);
    runtime = buildRuntime(compiled, services, true, () => current().compiled);
    const shared = store.shared ? { consumeRate: store.consumeRate.bind(store), instances } : undefined;
    const limits: GatewayLimits = { clients: new ClientRateLimiter(shared, options.rateShare), failedAuth, now };

    const countFailure = (clientId: string | undefined, address: string | undefined) => {
      failedAuth.recordFailure(address, clientId, now()).catch((err: unknown) => {
        logger.error({ err: err instanceof Error ? err.message : 'unknown error' }, 'failed-auth counter unavailable');
      });
    };
    const issuerApp = createIssuerApp({
      compiled: () => current().compiled,
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
      listener(
        createRequestHandler(current, logger, { before, onFinished }, limits),
        // Node enforces headersTimeout/requestTimeout only when it checks connections (default every 30 s): check
        // every second, so a client trickling its headers is cut after ~10 s, not ~30.
        {
          headersTimeout: 10_000,
          requestTimeout: 120_000,
          keepAliveTimeout: 5_000,
          connectionsCheckingInterval: 1_000,
        },
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
              : otherHttpVersion(err)
                ? '505 HTTP Version Not Supported'
                : '400 Bad Request';
        socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      } else socket.destroy();
    });

    const url = opens === 'admin' ? '' : await listen(server, options.listen ?? config.server.listen);
    let adminUrl: string | undefined;
    if (adminAddress) {
      const extend = (app: Express) => {
        app.get('/metrics', async (_req, res) => {
          const text = await (options.metricsSource ?? (() => metrics.metrics()))();
          res.set({ 'Content-Type': metrics.contentType, 'Cache-Control': 'no-store' }).send(text);
        });
      };
      adminServer = tracked(
        listener(
          createAdminApp({
            runtime: current,
            services,
            extend,
            docs,
            registry: clientRegistry,
            usage,
            failedAuth,
            console: options.console,
            onError: (err: unknown) =>
              logger.error({ err: err instanceof Error ? err.message : 'unknown error' }, 'audit append failed'),
            onStoreUnavailable,
          }),
        ),
      );
      adminUrl = await listen(adminServer, adminAddress);
    }
    tls?.watch();
    logger.info({ url: url || undefined, admin_url: adminUrl }, 'listening');

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
      clientRegistry,
      runtime: current,
      async reload(next?: GatewayConfig) {
        const nextConfig = next ?? load();
        const nextCompiled = compileConfig(nextConfig, storeClients);
        const previous = current();
        baseConfig = nextConfig;
        if (nextCompiled.config.issuer) services.accessTtl?.update(nextCompiled.config.issuer.access_token_ttl, now());
        runtime = buildRuntime(nextCompiled, services, true, () => current().compiled);
        services.clientSecrets.forget();
        // SIGHUP and a config change also re-read the key folder: a key added there signs from now on.
        if (keys && nextCompiled.config.issuer && nextCompiled.config.issuer.keys === config.issuer?.keys) {
          await keys.reload('config_reload');
        }
        // ... and the TLS pair, for renewals the file watch missed (network file systems, a watch that stopped)
        if (tls) tls.reload('config_reload');
        limits.clients.retain(localIssuerOf(nextCompiled.config), nextCompiled.clients);
        metrics.retire(previous);
        // Requests in flight keep the old runtime; close its resources once they had time to finish.
        setTimeout(() => previous.close(), 120_000).unref();
        return restartOnlyChanges(previous.compiled.config, nextCompiled.config);
      },
      async close() {
        tls?.close();
        await Promise.all([drain(publicServer, drainTimeoutMs), admin ? drain(admin, drainTimeoutMs) : undefined]);
        current().close();
        clientRegistry.stop();
        await store.close();
      },
    };
  } catch (err) {
    // A port in use or unreadable keys: release what was opened, so the process can exit with the message.
    tls?.close();
    for (const s of [server, adminServer]) if (s?.listening) s.close();
    registry?.stop();
    await store.close().catch(() => undefined);
    throw err;
  }
}
