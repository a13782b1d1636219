/**
 * Peer: Fastify 5 + @fastify/http-proxy (undici, keep-alive) + fast-jwt with its verified-token cache, scopes
 * checked in an onRequest hook. The fastest Node peer we know of.
 */
import { createPublicKey, type JsonWebKey } from 'node:crypto';
import fastify from 'fastify';
import httpProxy from '@fastify/http-proxy';
import { createVerifier } from 'fast-jwt';
import { serveSetup } from '../child.js';
import { benchEnv } from './env.js';

serveSetup(async () => {
  const env = benchEnv();
  const jwks = (await (await fetch(`${env.jwks}/local`)).json()) as { keys: JsonWebKey[] };
  const key = createPublicKey({ key: jwks.keys[0]!, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString();
  const verify = createVerifier({
    key,
    algorithms: ['ES256'],
    allowedIss: env.issuer,
    allowedAud: env.audience,
    cache: 50_000,
  });

  const app = fastify({ logger: false });
  app.addHook('onRequest', (req, reply, done) => {
    const header = req.headers.authorization;
    if (!header || !header.startsWith('Bearer ')) {
      return void reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'invalid_token' });
    }
    let claims: { scope?: unknown };
    try {
      claims = verify(header.slice(7)) as { scope?: unknown };
    } catch {
      return void reply
        .code(401)
        .header('www-authenticate', 'Bearer error="invalid_token"')
        .send({ error: 'invalid_token' });
    }
    const scopes = typeof claims.scope === 'string' ? claims.scope.split(' ') : [];
    if (!scopes.includes('menu:read')) {
      return void reply
        .code(403)
        .header('www-authenticate', 'Bearer error="insufficient_scope"')
        .send({ error: 'insufficient_scope' });
    }
    done();
  });
  await app.register(httpProxy, { upstream: env.upstream, prefix: '/api', rewritePrefix: '' });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return { url };
});
