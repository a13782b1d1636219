/**
 * Peer: what a team would assemble instead of a gateway: Express 5 + express-oauth2-jwt-bearer (jose, JWKS fetched
 * from the issuer and cached; every token verified on every request) + requiredScopes + http-proxy-middleware.
 */
import { Agent } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type ErrorRequestHandler } from 'express';
import { auth, requiredScopes } from 'express-oauth2-jwt-bearer';
import { createProxyMiddleware } from 'http-proxy-middleware';
import { serveSetup } from '../child.js';
import { benchEnv } from './env.js';

serveSetup(async () => {
  const env = benchEnv();
  const app = express();
  app.disable('x-powered-by');
  const agent = new Agent({ keepAlive: true, maxSockets: 512 });
  app.use(
    '/api',
    auth({ issuer: env.issuer, audience: env.audience, jwksUri: `${env.jwks}/local`, tokenSigningAlg: 'ES256' }),
    requiredScopes('menu:read'),
    createProxyMiddleware({ target: env.upstream, changeOrigin: true, agent }),
  );
  const onError: ErrorRequestHandler = (
    err: { status?: number; headers?: Record<string, string>; code?: string },
    _req,
    res,
    _next,
  ) => {
    res
      .status(err.status ?? 500)
      .set(err.headers ?? {})
      .json({ error: err.code ?? 'server_error' });
  };
  app.use(onError);
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
});
