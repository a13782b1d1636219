import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, resolve } from 'node:path';
import { ClientSecretVerifier } from '../auth/client-secret-verifier.js';
import { compileConfig, type CompiledConfig } from '../config/compile-config.js';
import { loadConfigFile } from '../config/load-config.js';
import type { GatewayConfig } from '../config/schema.js';
import { createAdminApp } from '../admin/admin-app.js';
import { createIssuerApp } from '../issuer/create-issuer-app.js';
import { isIssuerPath } from '../issuer/issuer-paths.js';
import { loadKeys, type KeySet } from '../issuer/keys.js';
import { ClientStateCache } from '../store/client-state-cache.js';
import { openStore } from '../store/open-store.js';
import { createRequestHandler, type GatewayHooks } from './gateway.js';
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
}

export interface RunningGateway {
  url: string;
  adminUrl?: string;
  server: Server;
  adminServer?: Server;
  services: Services;
  runtime(): Runtime;
  /** validates and swaps in a new config; throws ConfigError and keeps the old one when invalid */
  reload(config?: GatewayConfig): Promise<void>;
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

/** Starts the standalone gateway: public listener (node:http) and, when configured, the admin listener. */
export async function startGateway(options: StartOptions): Promise<RunningGateway> {
  const logger = options.logger ?? createLogger();
  const configPath = options.configPath ? resolve(options.configPath) : undefined;
  const baseDir = options.baseDir ?? (configPath ? dirname(configPath) : process.cwd());
  const load = (): GatewayConfig => options.config ?? loadConfigFile(configPath!);
  let compiled: CompiledConfig = compileConfig(load());
  const { config } = compiled;

  const store = await openStore(config.store, baseDir);
  let keys: KeySet | undefined;
  if (config.issuer) keys = await loadKeys(resolve(baseDir, config.issuer.keys));
  const services: Services = {
    store,
    keys,
    clientSecrets: new ClientSecretVerifier(),
    clientStates: new ClientStateCache(store),
    now: Date.now,
  };
  let runtime = buildRuntime(compiled, services);
  const current = () => runtime;

  const issuerApp =
    keys &&
    createIssuerApp({
      compiled: () => runtime.compiled,
      store,
      keys,
      clientSecrets: services.clientSecrets,
      now: services.now,
    });
  const before: GatewayHooks['before'] = (req, res, rt) => {
    if (options.hooks?.before?.(req, res, rt)) return true;
    if (issuerApp && isIssuerPath(rt.compiled, (req.url ?? '/').split('?', 1)[0]!)) {
      issuerApp(req, res);
      return true;
    }
    return false;
  };
  const server = createServer(
    { headersTimeout: 10_000, requestTimeout: 120_000, keepAliveTimeout: 5_000 },
    createRequestHandler(current, logger, { ...options.hooks, before }),
  );
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    // Malformed HTTP (smuggling attempts, oversized headers): a bare 400/431, never a crash.
    logger.debug({ code: err.code }, 'client error');
    if (socket.writable && !socket.destroyed) {
      const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    } else socket.destroy();
  });

  const url = await listen(server, options.listen ?? config.server.listen);
  let adminServer: Server | undefined;
  let adminUrl: string | undefined;
  const adminAddress = options.adminListen ?? config.server.admin_listen;
  if (adminAddress) {
    adminServer = createServer(createAdminApp({ runtime: current, services }));
    adminUrl = await listen(adminServer, adminAddress);
  }
  logger.info({ url, admin_url: adminUrl }, 'listening');

  return {
    url,
    adminUrl,
    server,
    adminServer,
    services,
    logger,
    runtime: current,
    async reload(next?: GatewayConfig) {
      const nextCompiled = compileConfig(next ?? load());
      const previous = runtime;
      compiled = nextCompiled;
      runtime = buildRuntime(nextCompiled, services);
      services.clientSecrets.forget();
      // Requests in flight keep the old runtime; close its resources once they had time to finish.
      setTimeout(() => previous.close(), 120_000).unref();
    },
    async close() {
      await Promise.all(
        [server, adminServer].filter((s): s is Server => s !== undefined).map(
          (s) =>
            new Promise<void>((done) => {
              s.close(() => done());
              s.closeIdleConnections();
            }),
        ),
      );
      runtime.close();
      await store.close();
    },
  };
}
