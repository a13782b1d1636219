/**
 * `server.cors` (SPEC.md 2): preflights are answered by the gateway and never forwarded; actual responses carry
 * Access-Control-Allow-Origin and Vary for a listed origin; any other origin gets no CORS header.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SECRETS, standardConfig } from '../helpers/fixtures.js';
import { send } from '../helpers/http.js';
import { startRecordingUpstream, type RecordingUpstream } from '../helpers/recording-upstream.js';
import { startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

const PARTNER = 'https://partner.example';
let upstream: RecordingUpstream;
let gw: TestGateway;

beforeAll(async () => {
  upstream = await startRecordingUpstream();
  gw = await startTestGateway(
    await standardConfig({ upstream: upstream.url, serverExtra: `  cors: { origins: ["${PARTNER}/"], max_age: 15m }` }),
  );
});
afterAll(async () => {
  await gw?.close();
  await upstream?.close();
});
beforeEach(() => {
  upstream.requests.length = 0;
});

const preflight = (path: string, origin: string, method = 'GET') =>
  send(gw.url, 'OPTIONS', path, [
    'Origin',
    origin,
    'Access-Control-Request-Method',
    method,
    'Access-Control-Request-Headers',
    'authorization',
  ]);

describe('preflights', () => {
  it('an allowed origin gets 204 with the route’s methods, the credential headers and max-age; nothing is forwarded', async () => {
    const res = await preflight('/api/orders/1', PARTNER, 'POST');
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe(PARTNER);
    expect(res.headers['access-control-allow-methods']).toBe('GET, HEAD, POST');
    const allowed = (res.headers['access-control-allow-headers'] as string).split(', ');
    expect(allowed).toEqual(
      expect.arrayContaining(['Authorization', 'X-Api-Key', 'X-Client-Id', 'X-Client-Secret', 'Content-Type']),
    );
    expect(res.headers['access-control-max-age']).toBe('900');
    expect(res.headers.vary).toBe('Origin');
    expect(res.body).toBe('');
    expect(upstream.requests).toHaveLength(0);
  });

  it('needs no credentials, on protected and public routes alike', async () => {
    expect((await preflight('/api/menu', PARTNER)).status).toBe(204);
    const pub = await preflight('/api/public/x', PARTNER, 'DELETE');
    expect(pub.status).toBe(204);
    expect(pub.headers['access-control-allow-methods']).toBe('GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS');
    expect(upstream.requests).toHaveLength(0);
  });

  it('the token endpoint answers preflights for POST', async () => {
    const res = await preflight('/oauth/token', PARTNER, 'POST');
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-methods']).toBe('POST');
  });

  it('a disallowed origin gets no CORS headers', async () => {
    const res = await preflight('/api/menu', 'https://evil.example');
    expect(res.status).toBe(204);
    for (const name of Object.keys(res.headers)) expect(name.startsWith('access-control-')).toBe(false);
    expect(upstream.requests).toHaveLength(0);
  });

  it('no route is still 404, and a bad path 400', async () => {
    expect((await preflight('/nowhere', PARTNER)).status).toBe(404);
    expect((await preflight('/api/menu%2f..%2forders', PARTNER)).status).toBe(400);
    expect(upstream.requests).toHaveLength(0);
  });

  it('an OPTIONS that is not a preflight is an ordinary method (405 without a scope entry)', async () => {
    expect((await send(gw.url, 'OPTIONS', '/api/menu', ['Origin', PARTNER, 'X-Api-Key', SECRETS.menuKey])).status).toBe(
      405,
    );
    expect(upstream.requests).toHaveLength(0);
  });
});

describe('actual responses', () => {
  it('forwarded responses carry Allow-Origin, Expose-Headers and Vary for a listed origin', async () => {
    const res = await send(gw.url, 'GET', '/api/menu', ['Origin', PARTNER, 'X-Api-Key', SECRETS.menuKey]);
    expect(res.status).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBe(PARTNER);
    expect(res.headers.vary).toBe('Origin');
    expect(res.headers['access-control-expose-headers']).toContain('WWW-Authenticate');
    expect(upstream.requests[0]!.headers.origin).toBe(PARTNER);
  });

  it('so do the gateway’s own errors, so page code can read the challenge', async () => {
    const res = await send(gw.url, 'GET', '/api/menu', ['Origin', PARTNER]);
    expect(res.status).toBe(401);
    expect(res.headers['access-control-allow-origin']).toBe(PARTNER);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer /);
  });

  it('a disallowed origin, or no Origin, gets no CORS headers', async () => {
    for (const headers of [['Origin', 'https://evil.example'], []]) {
      const res = await send(gw.url, 'GET', '/api/menu', [...headers, 'X-Api-Key', SECRETS.menuKey]);
      expect(res.status).toBe(200);
      for (const name of Object.keys(res.headers)) expect(name.startsWith('access-control-')).toBe(false);
    }
  });
});

describe('without server.cors', () => {
  it('a preflight is an ordinary OPTIONS: without its own scope entry it is 405', async () => {
    const plain = await startTestGateway(await standardConfig({ upstream: upstream.url }));
    try {
      const res = await send(plain.url, 'OPTIONS', '/api/menu', [
        'Origin',
        PARTNER,
        'Access-Control-Request-Method',
        'GET',
      ]);
      expect(res.status).toBe(405);
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
      expect(upstream.requests).toHaveLength(0);
    } finally {
      await plain.close();
    }
  });
});
