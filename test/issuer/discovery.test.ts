import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIssuerApp } from '../../src/issuer/create-issuer-app.js';
import { isIssuerPath } from '../../src/issuer/issuer-paths.js';
import { compileFixture, FIXTURE_YAML, POS, postForm, startIssuer, type IssuerFixture } from './issuer-fixture.js';

let f: IssuerFixture;
beforeAll(async () => {
  f = await startIssuer();
});
afterAll(() => f.close());

async function getJson(path: string) {
  const res = await fetch(`${f.url}${path}`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('application/json');
  return (await res.json()) as Record<string, unknown>;
}

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth'];

describe('GET /.well-known/jwks.json', () => {
  it('serves the public keys only', async () => {
    const jwks = (await getJson('/.well-known/jwks.json')) as { keys: Record<string, unknown>[] };
    expect(jwks.keys.length).toBeGreaterThan(0);
    for (const key of jwks.keys) for (const member of PRIVATE_MEMBERS) expect(key).not.toHaveProperty(member);
    expect(jwks.keys[0]).toMatchObject({ kid: f.deps.keys.signing.kid, alg: 'ES256', use: 'sig', kty: 'EC' });
  });

  it('verifies the tokens the endpoint issues', async () => {
    const jwks = (await getJson('/.well-known/jwks.json')) as unknown as Parameters<typeof createLocalJWKSet>[0];
    const { body } = await postForm(`${f.url}/oauth/token`, { grant_type: 'client_credentials', ...POS });
    const { payload } = await jwtVerify(body.access_token as string, createLocalJWKSet(jwks), {
      issuer: 'http://issuer.test',
      audience: 'restaurant-api',
      typ: 'at+jwt',
    });
    expect(payload.client_id).toBe('pos-partner');
  });

  it('answers POST with 405 and Allow: GET, HEAD', async () => {
    const res = await fetch(`${f.url}/.well-known/jwks.json`, { method: 'POST' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, HEAD');
  });
});

describe('authorization server metadata (RFC 8414)', () => {
  it('describes the issuer at both well-known paths', async () => {
    const meta = await getJson('/.well-known/oauth-authorization-server');
    expect(meta).toEqual({
      issuer: 'http://issuer.test',
      token_endpoint: 'http://issuer.test/oauth/token',
      jwks_uri: 'http://issuer.test/.well-known/jwks.json',
      revocation_endpoint: 'http://issuer.test/oauth/revoke',
      grant_types_supported: ['client_credentials', 'refresh_token'],
      response_types_supported: [],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
      revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
      scopes_supported: ['menu:read', 'orders:read', 'orders:write'],
    });
    expect(await getJson('/.well-known/openid-configuration')).toEqual(meta);
  });
});

describe('protected resource metadata (RFC 9728)', () => {
  it('names the resource, its authorization servers and scopes', async () => {
    const meta = await getJson('/.well-known/oauth-protected-resource');
    expect(meta).toEqual({
      resource: 'http://issuer.test',
      authorization_servers: ['http://issuer.test', 'https://idp.example.com/'],
      bearer_methods_supported: ['header'],
      scopes_supported: ['menu:read', 'menu:write', 'orders:read', 'orders:write', 'reservations:read'],
    });
    expect(f.compiled().resourceMetadataUrl).toBe('http://issuer.test/.well-known/oauth-protected-resource');
  });
});

describe('isIssuerPath', () => {
  it('matches the issuer paths exactly (case-sensitive, no trailing slash folding)', () => {
    const c = f.compiled();
    for (const p of [
      '/oauth/token',
      '/v1/security/oauth2/token',
      '/oauth/revoke',
      '/.well-known/jwks.json',
      '/.well-known/oauth-authorization-server',
      '/.well-known/openid-configuration',
      '/.well-known/oauth-protected-resource',
    ]) {
      expect(isIssuerPath(c, p), p).toBe(true);
    }
    for (const p of [
      '/OAUTH/TOKEN',
      '/oauth/token/',
      '/oauth//token',
      '/oauth/token.json',
      '/api/menu',
      '/',
      '/.well-known/',
    ]) {
      expect(isIssuerPath(c, p), p).toBe(false);
    }
  });

  it('serves only protected-resource metadata without an issuer section', async () => {
    const c = await compileFixture(FIXTURE_YAML.replace(/^issuer:\n( {2}.*\n)+/m, ''), '/tmp');
    expect(c.config.issuer).toBeUndefined();
    expect(isIssuerPath(c, '/.well-known/oauth-protected-resource')).toBe(true);
    expect(isIssuerPath(c, '/oauth/token')).toBe(false);
    expect(isIssuerPath(c, '/.well-known/jwks.json')).toBe(false);
  });

  it('follows a reload of token_paths', async () => {
    await f.reload(
      FIXTURE_YAML.replace('token_paths: [/oauth/token, /v1/security/oauth2/token]', 'token_paths: [/auth/token]'),
    );
    try {
      expect(isIssuerPath(f.compiled(), '/auth/token')).toBe(true);
      expect(isIssuerPath(f.compiled(), '/oauth/token')).toBe(false);
      expect((await postForm(`${f.url}/auth/token`, { grant_type: 'client_credentials', ...POS })).status).toBe(200);
      const meta = await getJson('/.well-known/oauth-authorization-server');
      expect(meta.token_endpoint).toBe('http://issuer.test/auth/token');
    } finally {
      await f.reload(FIXTURE_YAML);
    }
  });
});

describe('library mode', () => {
  it('mounts in another Express app and passes other paths on', async () => {
    const app = express();
    app.use(createIssuerApp(f.deps));
    app.get('/api/hello', (_req, res) => {
      res.send('hello');
    });
    const server = createServer(app).listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      expect(await (await fetch(`${base}/api/hello`)).text()).toBe('hello');
      expect((await postForm(`${base}/oauth/token`, { grant_type: 'client_credentials', ...POS })).status).toBe(200);
    } finally {
      server.close();
    }
  });
});
