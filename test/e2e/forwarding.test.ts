/** SPEC.md section 6: what the upstream receives, for every credential kind. */
import { createServer } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SECRETS, standardConfig } from '../helpers/fixtures.js';
import { getToken, rawRequest, send } from '../helpers/http.js';
import { startRecordingUpstream, type RecordingUpstream } from '../helpers/recording-upstream.js';
import { startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

let upstream: RecordingUpstream;
let gw: TestGateway;
let posToken: string;
let berlinToken: string;

beforeAll(async () => {
  upstream = await startRecordingUpstream();
  gw = await startTestGateway(
    await standardConfig({
      upstream: upstream.url,
      extraRoutes: `
  - path: /api/upload/**
    upstream: restaurant
    max_body: 1kb
    scopes: { write: [orders:write] }
`,
    }),
  );
  posToken = (await getToken(gw.url, 'pos', SECRETS.posSecret)).access_token as string;
  berlinToken = (await getToken(gw.url, 'booking', SECRETS.bookingSecret, { organization_id: 'rest-berlin' }))
    .access_token as string;
});
afterAll(async () => {
  await gw?.close();
  await upstream?.close();
});
beforeEach(() => {
  upstream.requests.length = 0;
});

function only() {
  expect(upstream.requests).toHaveLength(1);
  return upstream.requests[0]!;
}

describe('each credential kind reaches the upstream with identity headers and without the credential', () => {
  it('Bearer', async () => {
    const res = await send(gw.url, 'GET', '/api/menu/12?lang=de&x=%20y', ['Authorization', `Bearer ${posToken}`]);
    expect(res.status).toBe(200);
    expect(res.headers['x-upstream']).toBe('yes');
    const r = only();
    expect(r.url).toBe('/menu/12?lang=de&x=%20y');
    expect(r.headers.authorization).toBeUndefined();
    expect(r.headers['x-auth-client-id']).toBe('pos');
    expect(r.headers['x-auth-scopes']).toBe('menu:read orders:read orders:write');
    expect(r.headers['x-auth-method']).toBe('bearer');
    expect(r.headers['x-auth-tenant']).toBeUndefined();
  });

  it('X-Api-Key (the key grants its own scopes only)', async () => {
    expect((await send(gw.url, 'GET', '/api/menu', ['X-Api-Key', SECRETS.menuKey])).status).toBe(200);
    const r = only();
    expect(r.headers['x-api-key']).toBeUndefined();
    expect(r.headers['x-auth-client-id']).toBe('pos');
    expect(r.headers['x-auth-scopes']).toBe('menu:read');
    expect(r.headers['x-auth-method']).toBe('api_key');
  });

  it('X-Client-Id + X-Client-Secret', async () => {
    const res = await send(gw.url, 'GET', '/api/orders', ['X-Client-Id', 'pos', 'X-Client-Secret', SECRETS.posSecret]);
    expect(res.status).toBe(200);
    const r = only();
    expect(r.headers['x-client-secret']).toBeUndefined();
    expect(r.headers['x-auth-client-id']).toBe('pos');
    expect(r.headers['x-auth-method']).toBe('client_secret');
  });

  it('a tenant-bound token sets X-Auth-Tenant', async () => {
    const res = await send(gw.url, 'GET', '/api/organizations/rest-berlin/reservations', [
      'Authorization',
      `Bearer ${berlinToken}`,
    ]);
    expect(res.status).toBe(200);
    const r = only();
    expect(r.url).toBe('/organizations/rest-berlin/reservations');
    expect(r.headers['x-auth-tenant']).toBe('rest-berlin');
  });

  it('API-key and client-secret callers pass a tenant route for one of their tenants', async () => {
    const ok = await send(gw.url, 'GET', '/api/organizations/rest-munich/reservations', [
      'X-Client-Id',
      'booking',
      'X-Client-Secret',
      SECRETS.bookingSecret,
    ]);
    expect(ok.status).toBe(200);
    expect(only().headers['x-auth-tenant']).toBe('rest-munich');
    const other = await send(gw.url, 'GET', '/api/organizations/rest-hamburg/reservations', [
      'X-Client-Id',
      'booking',
      'X-Client-Secret',
      SECRETS.bookingSecret,
    ]);
    expect(other.status).toBe(403);
    expect(upstream.requests).toHaveLength(1);
  });

  it('{any: [...]} requires one of the scopes', async () => {
    expect((await send(gw.url, 'GET', '/api/either/x', ['Authorization', `Bearer ${posToken}`])).status).toBe(200);
    const menuOnly = await send(gw.url, 'GET', '/api/either/x', ['X-Api-Key', SECRETS.menuKey]);
    expect(menuOnly.status).toBe(403);
    expect(menuOnly.headers['www-authenticate']).toContain('scope="orders:read reservations:read"');
  });

  it('auth: [api_key] refuses other methods on that route', async () => {
    expect((await send(gw.url, 'GET', '/api/keys-only/a', ['X-Api-Key', SECRETS.menuKey])).status).toBe(200);
    const bearer = await send(gw.url, 'GET', '/api/keys-only/a', ['Authorization', `Bearer ${posToken}`]);
    expect(bearer.status).toBe(401);
    expect(upstream.requests).toHaveLength(1);
  });
});

describe('header hygiene', () => {
  it('removes client-sent identity headers in every spelling, method overrides and hop-by-hop headers', async () => {
    const res = await send(gw.url, 'GET', '/api/menu', [
      'Authorization',
      `Bearer ${posToken}`,
      'X-Auth-Client-Id',
      'admin',
      'X-Auth-Scopes',
      'menu:write',
      'X_Auth_Scopes',
      'menu:write',
      'x-auth_tenant',
      'rest-munich',
      'X-Auth-Anything',
      'x',
      'X-HTTP-Method-Override',
      'DELETE',
      'X-HTTP-Method',
      'DELETE',
      'X_Method_Override',
      'DELETE',
      'Keep-Alive',
      'timeout=5',
      'Proxy-Authorization',
      'Basic abc',
      'TE',
      'trailers',
      'X-Custom',
      'kept',
    ]);
    expect(res.status).toBe(200);
    const r = only();
    const names = r.rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
    expect(names.filter((n) => n.replaceAll('_', '-').startsWith('x-auth-')).sort()).toEqual([
      'x-auth-client-id',
      'x-auth-issuer',
      'x-auth-method',
      'x-auth-scopes',
    ]);
    expect(r.headers['x-auth-client-id']).toBe('pos');
    expect(r.headers['x-auth-scopes']).toBe('menu:read orders:read orders:write');
    for (const gone of [
      'x-http-method-override',
      'x-http-method',
      'x_method_override',
      'keep-alive',
      'proxy-authorization',
      'te',
    ]) {
      expect(names).not.toContain(gone);
    }
    expect(r.headers['x-custom']).toBe('kept');
    expect(r.method).toBe('GET');
  });

  it('headers named in Connection are dropped but cannot drop the gateway identity headers', async () => {
    const res = await send(gw.url, 'GET', '/api/menu', [
      'Authorization',
      `Bearer ${posToken}`,
      'Connection',
      'keep-alive, X-Auth-Client-Id, X-Auth-Scopes, X-Forwarded-For, X-Drop-Me',
      'X-Drop-Me',
      'secret',
    ]);
    expect(res.status).toBe(200);
    const r = only();
    expect(r.headers['x-drop-me']).toBeUndefined();
    expect(r.headers['x-auth-client-id']).toBe('pos');
    expect(r.headers['x-auth-scopes']).toBe('menu:read orders:read orders:write');
    expect(r.headers['x-forwarded-for']).toBe('127.0.0.1');
  });

  it('sets X-Forwarded-* and ignores a client-sent X-Forwarded-For', async () => {
    await send(gw.url, 'GET', '/api/public/status', [
      'X-Forwarded-For',
      '6.6.6.6',
      'X-Forwarded-Host',
      'evil',
      'Forwarded',
      'for=6.6.6.6',
    ]);
    const r = only();
    expect(r.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(r.headers['x-forwarded-proto']).toBe('http');
    expect(r.headers['x-forwarded-host']).toBe(new URL(gw.url).host);
    expect(r.headers.forwarded).toBeUndefined();
  });

  it('a public route forwards without identity headers, even when the client sends some', async () => {
    await send(
      gw.url,
      'POST',
      '/api/public/feedback',
      ['X-Auth-Client-Id', 'admin', 'Content-Type', 'text/plain'],
      'hi',
    );
    const r = only();
    expect(r.headers['x-auth-client-id']).toBeUndefined();
    expect(r.method).toBe('POST');
    expect(r.body.toString()).toBe('hi');
  });
});

describe('paths: what is matched is what is forwarded', () => {
  it('resolves dot segments (also percent-encoded) before matching, and forwards the normalized path', async () => {
    const res = await send(gw.url, 'GET', '/api/public/../menu/%2e%2e/menu/1', ['Authorization', `Bearer ${posToken}`]);
    expect(res.status).toBe(200);
    expect(only().url).toBe('/menu/1');
  });

  it('a dot-segment escape from a public route into a protected one needs the protected route’s credentials', async () => {
    const res = await send(gw.url, 'GET', '/api/public/%2e%2e/menu');
    expect(res.status).toBe(401);
    expect(upstream.requests).toHaveLength(0);
  });

  it('merges duplicate slashes and decodes unreserved characters', async () => {
    const res = await send(gw.url, 'GET', '/api//%6denu//x', ['Authorization', `Bearer ${posToken}`]);
    expect(res.status).toBe(200);
    expect(only().url).toBe('/menu/x');
  });
});

describe('bodies', () => {
  it('streams a request body unchanged, chunked or not, and the response back', async () => {
    upstream.respond((_req, res, body) => {
      res.writeHead(201, { 'Content-Type': 'application/octet-stream', 'X-Len': String(body.length) });
      res.end(body);
    });
    try {
      const payload = Buffer.alloc(256 * 1024, 7);
      const res = await send(
        gw.url,
        'POST',
        '/api/orders',
        ['Authorization', `Bearer ${posToken}`, 'Content-Type', 'application/octet-stream'],
        payload,
      );
      expect(res.status).toBe(201);
      expect(res.headers['x-len']).toBe(String(payload.length));
      expect(only().body.equals(payload)).toBe(true);

      upstream.requests.length = 0;
      const chunked = await rawRequest(
        gw.url,
        `POST /api/orders HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${posToken}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n`,
      );
      expect(chunked).toMatch(/^HTTP\/1\.1 201/);
      expect(only().body.toString()).toBe('hello world');
    } finally {
      upstream.respond(undefined);
    }
  });

  it('max_body: 413 by Content-Length before forwarding', async () => {
    const res = await send(
      gw.url,
      'POST',
      '/api/upload/x',
      ['Authorization', `Bearer ${posToken}`, 'Content-Length', '2048'],
      Buffer.alloc(2048, 1),
    );
    expect(res.status).toBe(413);
    expect(res.json().error).toBe('invalid_request');
    expect(upstream.requests).toHaveLength(0);
  });

  it('max_body: 413 for a chunked body that grows past the limit', async () => {
    const big = 'a'.repeat(600);
    const out = await rawRequest(
      gw.url,
      `POST /api/upload/x HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${posToken}\r\nTransfer-Encoding: chunked\r\n\r\n258\r\n${big}\r\n258\r\n${big}\r\n0\r\n\r\n`,
    );
    expect(out).toMatch(/^HTTP\/1\.1 413/);
  });
});

describe('upstream unreachable', () => {
  it('502 when nothing listens', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const other = await startTestGateway(await standardConfig({ upstream: `http://127.0.0.1:${port}` }));
    try {
      const res = await send(other.url, 'GET', '/api/public/status');
      expect(res.status).toBe(502);
      expect(res.headers['content-type']).toBe('application/json');
      expect(res.json().error).toBe('bad_gateway');
    } finally {
      await other.close();
    }
  });
});
