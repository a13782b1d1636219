/** SPEC.md section 8: `import { scopegate, oauthErrorHandler } from 'scopegate'` inside an Express app. */
import { mkdtempSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashApiKey } from '../../src/auth/secret-hash.js';
import { compileConfig } from '../../src/config/compile-config.js';
import { parseConfigObject } from '../../src/config/parse-config-object.js';
import { ConfigError, oauthErrorHandler, scopegate, type ScopegateMiddleware } from '../../src/index.js';
import { loadKeys } from '../../src/issuer/keys.js';
import { mintAccessToken } from '../../src/issuer/mint-access-token.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { send } from '../helpers/http.js';
import { startRecordingUpstream, type RecordingUpstream } from '../helpers/recording-upstream.js';

const KEY = 'library-key-0123456789abcdefghijklmnop';
let dir: string;
let server: Server;
let base: string;
let guard: ScopegateMiddleware;
let forwarding: ScopegateMiddleware;
let upstream: RecordingUpstream;
let token: string;

function config(upstreamUrl: string) {
  return {
    server: { realm: 'my-app' },
    issuer: { issuer: 'http://app.test', audience: 'my-app', keys: join(dir, 'keys') },
    store: 'memory:',
    clients: [
      {
        id: 'partner',
        scopes: ['menu:read', 'orders:read'],
        tenants: ['rest-berlin'],
        api_keys: [{ hash: hashApiKey(KEY), scopes: ['menu:read'] }],
      },
    ],
    upstreams: { backend: { url: upstreamUrl } },
    routes: [
      { path: '/api/menu/**', upstream: 'backend', scopes: { read: ['menu:read'], write: ['menu:write'] } },
      { path: '/api/orgs/:org/**', upstream: 'backend', tenant_param: 'org', scopes: { read: ['orders:read'] } },
      {
        path: '/proxied/upload/**',
        upstream: 'backend',
        strip_prefix: '/proxied',
        max_body: '1kb',
        scopes: ['menu:read'],
      },
      { path: '/proxied/**', upstream: 'backend', strip_prefix: '/proxied', scopes: { read: ['menu:read'] } },
      { path: '/health', upstream: 'backend', auth: 'none' as const },
    ],
  };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'scopegate-lib-'));
  upstream = await startRecordingUpstream();
  const store = new MemoryStore();
  guard = scopegate(config(upstream.url), { store });
  await guard.ready; // generates the signing key on first start
  forwarding = scopegate(config(upstream.url), { store, forward: true });
  await forwarding.ready;

  const app = express();
  app.use('/proxied', forwarding);
  app.use(guard);
  app.get('/api/menu', (req, res) => res.json({ auth: req.auth }));
  app.get('/api/orgs/:org/orders', (req, res) => res.json({ auth: req.auth }));
  app.get('/health', (req, res) => res.json({ ok: true, auth: req.auth ?? null }));
  app.use(oauthErrorHandler());
  server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const compiled = compileConfig(parseConfigObject(config(upstream.url)));
  const keys = await loadKeys(join(dir, 'keys'));
  token = (
    await mintAccessToken(
      { compiled: () => compiled, keys, store },
      { clientId: 'partner', scopes: ['menu:read', 'orders:read'], tenant: 'rest-berlin' },
    )
  ).accessToken;
});

afterAll(async () => {
  await new Promise((r) => server?.close(r));
  await guard?.close();
  await forwarding?.close();
  await upstream?.close();
});

describe('scopegate() as Express middleware', () => {
  it('sets req.auth for a valid Bearer token', async () => {
    const res = await send(base, 'GET', '/api/menu', ['Authorization', `Bearer ${token}`]);
    expect(res.status).toBe(200);
    expect(res.json().auth).toEqual({
      clientId: 'partner',
      scopes: ['menu:read', 'orders:read'],
      tenant: 'rest-berlin',
      method: 'bearer',
    });
  });

  it('sets req.auth for an API key', async () => {
    const res = await send(base, 'GET', '/api/menu', ['X-Api-Key', KEY]);
    expect(res.json().auth).toEqual({ clientId: 'partner', scopes: ['menu:read'], method: 'api_key' });
  });

  it('tenant routes use the token tenant', async () => {
    const ok = await send(base, 'GET', '/api/orgs/rest-berlin/orders', ['Authorization', `Bearer ${token}`]);
    expect(ok.status).toBe(200);
    expect((ok.json().auth as { tenant: string }).tenant).toBe('rest-berlin');
    const other = await send(base, 'GET', '/api/orgs/rest-munich/orders', ['Authorization', `Bearer ${token}`]);
    expect(other.status).toBe(403);
  });

  it('oauthErrorHandler renders 401 with the RFC 6750 challenge and JSON body', async () => {
    const res = await send(base, 'GET', '/api/menu');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe(
      'Bearer realm="my-app", resource_metadata="http://app.test/.well-known/oauth-protected-resource"',
    );
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.json().error).toBe('invalid_token');
  });

  it('403 names the missing scope; 404 for paths outside the config; public routes pass without req.auth', async () => {
    const denied = await send(base, 'POST', '/api/menu', ['X-Api-Key', KEY]);
    expect(denied.status).toBe(403);
    expect(denied.headers['www-authenticate']).toContain('scope="menu:write"');
    expect((await send(base, 'GET', '/elsewhere')).status).toBe(404);
    const health = await send(base, 'GET', '/health');
    expect(health.json()).toEqual({ ok: true, auth: null });
  });

  it('forward: true proxies allowed requests to the route upstream with identity headers', async () => {
    upstream.requests.length = 0;
    const res = await send(base, 'GET', '/proxied/items?x=1', ['X-Api-Key', KEY, 'X-Auth-Scopes', 'forged']);
    expect(res.status).toBe(200);
    expect(upstream.requests).toHaveLength(1);
    expect(upstream.requests[0]!.url).toBe('/items?x=1');
    expect(upstream.requests[0]!.headers['x-auth-scopes']).toBe('menu:read');
    expect(upstream.requests[0]!.headers['x-api-key']).toBeUndefined();
    const denied = await send(base, 'GET', '/proxied/items');
    expect(denied.status).toBe(401);
    expect(upstream.requests).toHaveLength(1);
  });

  it('forward: true refuses a declared body over max_body with 413 before forwarding', async () => {
    upstream.requests.length = 0;
    const res = await send(
      base,
      'POST',
      '/proxied/upload/x',
      ['X-Api-Key', KEY, 'Content-Length', '2048'],
      Buffer.alloc(2048, 1),
    );
    expect(res.status).toBe(413);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.json().error).toBe('invalid_request');
    expect(upstream.requests).toHaveLength(0);
  });

  it('a bad config object throws ConfigError naming the key', () => {
    expect(() => scopegate({ routes: [{ path: '/x', scopes: [], bogus: 1 }] } as never)).toThrow(ConfigError);
    expect(() => scopegate({ routes: [{ path: '/x', scopes: [], bogus: 1 }] } as never)).toThrow(/routes\[0\]\.bogus/);
  });
});
