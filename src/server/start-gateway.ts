import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import { dirname, resolve } from 'node:path';
import { compileConfig } from '../config/compile-config.js';
import { loadConfigFile } from '../config/load-config.js';
import type { GatewayConfig } from '../config/schema.js';
import { createAdminApp } from '../admin/admin-app.js';
import type { ConsoleSessionOptions } from '../admin/console/console-sessions.js';
import { ClientRegistry } from '../admin/client-registry.js';
import { toClientEntry } from '../admin/stored-client.js';
import { UsageRecorder } from '../admin/usage-recorder.js';
import type { ClientEntry } from '../config/compile-config.js';
import { adminListenerProblem } from '../config/licence-rules.js';
import { documentsOf, releaseDocuments } from '../store/documents-of.js';
import { createIssuerApp } from '../issuer/create-issuer-app.js';
import { servedEndpoint } from '../issuer/issuer-paths.js';
import { loadKeys, type KeySet } from '../issuer/keys.js';
import { GatewayMetrics } from '../metrics/gateway-metrics.js';
import { ClientRateLimiter } from '../ratelimit/client-rate-limiter.js';
import { FailedAuthLimiter } from '../ratelimit/failed-auth-limiter.js';
import { RateLimitedSecretVerifier } from '../ratelimit/rate-limited-secret-verifier.js';
import { ClientStateCache } from '../store/client-state-cache.js';
import { openStore } from '../store/open-store.js';
import { createRequestHandler, type GatewayHooks, type GatewayLimits } from './gateway.js';
import { createLogger, type Logger } from './logger.js';
import { buildRuntime, withClients, type Runtime, type Services } from './runtime.js';

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

/** Closes a server: stop accepting, close connections as they go idle, cut the rest after `timeoutMs`. */
function drain(server: Server, timeoutMs: number): Promise<void> {
  return new Promise<void>((done) => {
    if (!server.listening) return done();
    // Keep-alive connections become idle once their request is answered; close them as they do.
    const idle = setInterval(() => server.closeIdleConnections(), 100);
    const cut = setTimeout(() => server.closeAllConnections(), timeoutMs);
    server.close(() => {
      clearInterval(idle);
      clearTimeout(cut);
      done();
    });
    server.closeIdleConnections();
  });
}

/** Starts the standalone gateway: public listener (node:http) and, when configured, the admin listener. */
export async function startGateway(options: StartOptions): Promise<RunningGateway> {
  const logger = options.logger ?? createLogger();
  const configPath = options.configPath ? resolve(options.configPath) : undefined;
  const baseDir = options.baseDir ?? (configPath ? dirname(configPath) : process.cwd());
  const load = (): GatewayConfig => options.config ?? loadConfigFile(configPath!);
  const fileConfig = load();
  const config = fileConfig;
  const adminAddress = options.adminListen ?? config.server.admin_listen;
  const adminProblem = adminAddress ? adminListenerProblem(config, adminAddress) : undefined;
  if (adminProblem) throw new Error(adminProblem);

  const store = await openStore(config.store, baseDir);
  let server: Server | undefined;
  let adminServer: Server | undefined;
  let registry: ClientRegistry | undefined;
  try {
    let keys: KeySet | undefined;
    if (config.issuer) keys = await loadKeys(resolve(baseDir, config.issuer.keys));
    const now = Date.now;
    const docs = documentsOf(store);
    // Clients created through the admin API: loaded before the listeners open, then kept current in memory.
    let storeClients: ClientEntry[] = [];
    let runtime: Runtime | undefined;
    let baseConfig = fileConfig;
    registry = new ClientRegistry(
      docs,
      (clients) => {
        storeClients = clients.map(toClientEntry);
        if (!runtime) return;
        const next = compileConfig(baseConfig, storeClients);
        runtime = withClients(runtime, next);
        limits.clients.retain(next.clients);
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
    const current = () => runtime!;
    const failedAuth = new FailedAuthLimiter(store, () => current().compiled.config.server.failed_auth_limit);
    const services: Services = {
      store,
      keys,
      clientSecrets: new RateLimitedSecretVerifier(failedAuth, now),
      clientStates: new ClientStateCache(store),
      now,
      onApiKeyUsed: (clientId, keyId) => usage.record(clientId, keyId),
    };
    services.clientSecrets.onUsed = (clientId, secretId) => usage.record(clientId, secretId);
    runtime = buildRuntime(compiled, services, true, () => current().compiled);
    const limits: GatewayLimits = { clients: new ClientRateLimiter(), failedAuth, now };
    const metrics = new GatewayMetrics(current);

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
    server = createServer(
      // Node enforces headersTimeout/requestTimeout only when it checks connections (default every 30 s): check
      // every second, so a client trickling its headers is cut after ~10 s, not ~30.
      { headersTimeout: 10_000, requestTimeout: 120_000, keepAliveTimeout: 5_000, connectionsCheckingInterval: 1_000 },
      createRequestHandler(current, logger, { before, onFinished }, limits),
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
    if (adminAddress) {
      const extend = (app: Express) => {
        app.get('/metrics', async (_req, res) => {
          res.set({ 'Content-Type': metrics.contentType, 'Cache-Control': 'no-store' }).send(await metrics.metrics());
        });
      };
      adminServer = createServer(
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
        }),
      );
      adminUrl = await listen(adminServer, adminAddress);
    }
    logger.info({ url, admin_url: adminUrl }, 'listening');

    const publicServer = server;
    const stopRegistry = () => {
      clientRegistry.stop();
      releaseDocuments(store);
    };
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
        const nextConfig = next ?? load();
        const nextCompiled = compileConfig(nextConfig, storeClients);
        const previous = current();
        baseConfig = nextConfig;
        runtime = buildRuntime(nextCompiled, services, true, () => current().compiled);
        services.clientSecrets.forget();
        limits.clients.retain(nextCompiled.clients);
        metrics.retire(previous);
        // Requests in flight keep the old runtime; close its resources once they had time to finish.
        setTimeout(() => previous.close(), 120_000).unref();
        return restartOnlyChanges(previous.compiled.config, nextCompiled.config);
      },
      async close() {
        await Promise.all([drain(publicServer, drainTimeoutMs), admin ? drain(admin, drainTimeoutMs) : undefined]);
        current().close();
        stopRegistry();
        await store.close();
      },
    };
  } catch (err) {
    // A port in use or unreadable keys: release what was opened, so the process can exit with the message.
    for (const s of [server, adminServer]) if (s?.listening) s.close();
    registry?.stop();
    releaseDocuments(store);
    await store.close().catch(() => undefined);
    throw err;
  }
}
