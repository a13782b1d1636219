/**
 * The local issuer as an Express app: token endpoint, revocation, JWKS and discovery documents. The standalone
 * gateway hands it requests whose path `isIssuerPath`; in library mode it can be mounted with `app.use` (before any
 * body parser: it reads the raw body itself to see repeated parameters). Paths it does not own go to `next()`.
 *
 * Every response is JSON with `Content-Type: application/json` exactly (no charset: the Amadeus SDK accepts
 * nothing else), so bodies are written as strings rather than with `res.json`.
 */
import type { ServerResponse } from 'node:http';
import express from 'express';
import { methodNotAllowed, OAuthError, storeUnavailable } from '../errors/oauth-error.js';
import { isStoreFailure } from '../store/store-unavailable.js';
import { renderError } from '../errors/render-error.js';
import type { IssuerDeps } from './issuer-deps.js';
import { servedEndpoint, type IssuerEndpoint } from './issuer-paths.js';
import { authorizationServerMetadata, protectedResourceMetadata } from './metadata.js';
import { handleRevocationRequest } from './revocation-endpoint.js';
import { handleTokenRequest, type TokenOutcome } from './token-endpoint.js';

/** RFC 6749 5.1: token responses and their errors are never cached. */
const NO_STORE = { 'Cache-Control': 'no-store', Pragma: 'no-cache' };
/** Public documents (JWKS, metadata) may be cached briefly; a new key is also found by its unknown `kid`. */
const PUBLIC_DOC = { 'Cache-Control': 'public, max-age=300' };

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string>): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'Content-Type': 'application/json',
    'Content-Length': String(Buffer.byteLength(text)),
  });
  res.end(text);
}

const POST_ONLY: readonly IssuerEndpoint[] = ['token', 'revocation'];

/**
 * The issuer's endpoints, plus the RFC 9728 protected-resource metadata every Bearer challenge names. Without
 * signing keys (no `issuer` section) only that metadata document is served: it describes the resource, not an issuer.
 */
export function createIssuerApp(deps: Omit<IssuerDeps, 'keys'> & { keys?: IssuerDeps['keys'] }): express.Express {
  const withKeys = deps.keys ? (deps as IssuerDeps) : undefined;
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.set('case sensitive routing', true);
  app.set('strict routing', true);

  app.use((req, res, next) => {
    const compiled = deps.compiled();
    const endpoint = servedEndpoint(compiled, req.path, withKeys !== undefined);
    if (!endpoint) return next();
    const realm = compiled.config.server.realm;
    const outcome: TokenOutcome = {};
    res.locals.issuerOutcome = outcome;
    const fail = (err: unknown) => {
      if (isStoreFailure(err)) {
        // Nothing was recorded (a revocation, a rotation): 503 + Retry-After, the cause only in the log.
        deps.onStoreUnavailable?.(err instanceof Error ? err.message : 'store unavailable', endpoint);
        err = storeUnavailable();
      }
      // the access log says why (bad_client_credentials, client_expired, refresh_token_replayed ...), not `http_401`
      outcome.reason = err instanceof OAuthError ? err.reason : 'internal';
      const rendered = renderError(err, { realm });
      // A refused body (413) is not read to its end; close the connection rather than drain it.
      if (rendered.status === 413) rendered.headers.Connection = 'close';
      res.writeHead(rendered.status, {
        ...rendered.headers,
        'Content-Length': String(Buffer.byteLength(rendered.body)),
      });
      res.end(rendered.body);
    };

    const post = POST_ONLY.includes(endpoint);
    const allowed = post ? req.method === 'POST' : req.method === 'GET' || req.method === 'HEAD';
    if (!allowed) return fail(methodNotAllowed(post ? ['POST'] : ['GET', 'HEAD']));

    switch (endpoint) {
      case 'token':
        return void handleTokenRequest(withKeys!, req, outcome).then(
          (body) => sendJson(res, 200, body, NO_STORE),
          fail,
        );
      case 'revocation':
        return void handleRevocationRequest(withKeys!, req, outcome).then(() => sendJson(res, 200, {}, NO_STORE), fail);
      case 'jwks': {
        const keys = withKeys!.keys;
        const refreshed = keys.refreshIfChanged ? keys.refreshIfChanged() : Promise.resolve();
        return void refreshed.then(() => sendJson(res, 200, keys.jwks, PUBLIC_DOC), fail);
      }
      case 'authorization_server':
        return sendJson(res, 200, authorizationServerMetadata(compiled, compiled.config.issuer!), PUBLIC_DOC);
      case 'protected_resource':
        return sendJson(res, 200, protectedResourceMetadata(compiled), PUBLIC_DOC);
    }
  });
  return app;
}
