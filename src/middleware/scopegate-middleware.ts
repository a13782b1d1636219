import { dirname, resolve } from 'node:path';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { ClientSecretVerifier } from '../auth/client-secret-verifier.js';
import type { Identity } from '../auth/identity.js';
import { compileConfig } from '../config/compile-config.js';
import { loadConfigFile } from '../config/load-config.js';
import { parseConfigObject } from '../config/parse-config-object.js';
import type { GatewayConfigInput } from '../config/schema.js';
import { storeUnavailable } from '../errors/oauth-error.js';
import type { ChallengeContext } from '../errors/render-error.js';
import { KeyRing } from '../issuer/key-ring.js';
import { decide } from '../pipeline/decide.js';
import { clientAddress } from '../proxy/client-address.js';
import { upstreamHeaders } from '../proxy/upstream-headers.js';
import { ClientRegistry } from '../admin/client-registry.js';
import { toClientEntry } from '../store/stored-client.js';
import { buildRuntime, withClients, type Runtime } from '../runtime/runtime.js';
import { ClientStateCache } from '../store/client-state-cache.js';
import { openStore } from '../store/open-store.js';
import type { Store } from '../store/store.js';
import { isStoreFailure } from '../store/store-unavailable.js';
import { sendError } from '../server/gateway.js';

/** What `req.auth` holds after the middleware allowed a request. */
export interface AuthInfo {
  clientId: string;
  scopes: readonly string[];
  tenant?: string;
  method: Identity['method'];
}

declare module 'http' {
  interface IncomingMessage {
    auth?: AuthInfo;
  }
}

export interface ScopegateOptions {
  /** forward allowed requests to the route's upstream instead of calling next() */
  forward?: boolean;
  /** resolves relative paths (store, keys) of an object config; default: the YAML file's folder or cwd */
  baseDir?: string;
  /** use this store instead of opening `config.store` */
  store?: Store;
}

export type ScopegateMiddleware = RequestHandler & {
  /** resolves when store and keys are loaded */
  ready: Promise<void>;
  close(): Promise<void>;
};

export const CHALLENGE_LOCAL = 'scopegateChallenge';

/**
 * Express middleware built from the same config as the gateway (an object or a YAML path): authenticates,
 * authorizes and sets `req.auth = {clientId, scopes, tenant, method}`; errors go to `next(err)` as OAuthError, for
 * `oauthErrorHandler` to render. Routes are matched on `req.originalUrl`, so it can be mounted anywhere.
 */
export function scopegate(config: GatewayConfigInput | string, options: ScopegateOptions = {}): ScopegateMiddleware {
  const parsed = typeof config === 'string' ? loadConfigFile(config) : parseConfigObject(config);
  const baseDir = options.baseDir ?? (typeof config === 'string' ? dirname(resolve(config)) : process.cwd());
  const compiled = compileConfig(parsed);
  let runtime: Runtime | undefined;
  let store: Store | undefined;
  let registry: ClientRegistry | undefined;

  const ready = (async () => {
    store =
      options.store ??
      (await openStore(parsed.store, baseDir, {
        prefix: parsed.store_options.prefix,
        commandTimeoutMs: parsed.store_options.command_timeout,
      }));
    const keys = parsed.issuer ? (await KeyRing.open(resolve(baseDir, parsed.issuer.keys))).ring : undefined;
    // clients created through a gateway's admin API on the same store authenticate here too
    let storeClients: ReturnType<typeof toClientEntry>[] = [];
    registry = new ClientRegistry(store, (clients) => {
      storeClients = clients.map(toClientEntry);
      if (runtime) runtime = withClients(runtime, compileConfig(parsed, storeClients));
    });
    await registry.start();
    runtime = buildRuntime(
      compiled,
      {
        store,
        keys,
        clientSecrets: new ClientSecretVerifier(),
        clientStates: new ClientStateCache(store, { staleMaxMs: parsed.store_options.stale_max }),
        now: Date.now,
      },
      options.forward === true,
      () => runtime!.compiled,
    );
    if (storeClients.length > 0) runtime = withClients(runtime, compileConfig(parsed, storeClients));
  })();

  const middleware = ((req: Request, res: Response, next: NextFunction) => {
    ready
      .then(async () => {
        const rt = runtime!;
        res.locals[CHALLENGE_LOCAL] = rt.challenge;
        const decision = await decide(
          { method: req.method, target: req.originalUrl, rawHeaders: req.rawHeaders },
          rt.auth,
        );
        const report = rt.compiled.config.server.mode === 'report';
        if (decision.kind === 'deny') {
          const relaxable = decision.error.status === 401 || decision.error.status === 403;
          if (!(report && relaxable && decision.destination)) return next(decision.error);
        } else if (decision.identity) {
          const { clientId, scopes, method } = decision.identity;
          req.auth = { clientId, scopes, tenant: decision.tenant, method };
        }
        const destination = decision.destination;
        const forwarder = destination?.route.upstream ? rt.forwarders.get(destination.route.upstream) : undefined;
        if (!options.forward || !destination || !forwarder) return next();
        forwarder.forward(req, res, {
          target: destination.forwardTarget,
          headers: upstreamHeaders(req.rawHeaders, {
            identity: decision.kind === 'allow' ? decision.identity : undefined,
            tenant: decision.kind === 'allow' ? decision.tenant : undefined,
            forwardedFor: clientAddress(req.socket.remoteAddress, req.rawHeaders, rt.compiled.trustedProxies)
              .forwardedFor,
            proto: req.protocol === 'https' ? 'https' : 'http',
            host: req.headers.host,
          }),
          timeoutMs: rt.compiled.config.upstreams[destination.route.upstream!]!.timeout,
          maxBody: destination.route.maxBody,
          fail: (err) => sendError(res, rt, err),
        });
      })
      .catch((err: unknown) => next(isStoreFailure(err) ? storeUnavailable() : err));
  }) as ScopegateMiddleware;
  middleware.ready = ready;
  middleware.close = async () => {
    await ready.catch(() => undefined);
    runtime?.close();
    registry?.stop();
    if (!options.store) await store?.close();
  };
  return middleware;
}

export function challengeOf(res: Response): ChallengeContext | undefined {
  return res.locals[CHALLENGE_LOCAL] as ChallengeContext | undefined;
}
