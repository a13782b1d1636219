/**
 * SPEC.md 7 "Rate limits" and SPEC.md 4 (429): per client (`rate_limit`) and failed credential checks per address and
 * per client id (`server.failed_auth_limit`), with Retry-After and the IETF RateLimit fields. Other addresses are
 * simulated by binding the client side to other loopback addresses (127.0.0.x). The failed-auth windows are an hour
 * long, so a test cannot straddle a window boundary.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret } from '../../../src/auth/secret-hash.js';
import { SECRETS, standardConfig } from '../../helpers/fixtures.js';
import { send, type RawResponse } from '../../helpers/http.js';
import { startRecordingUpstream, type RecordingUpstream } from '../../helpers/recording-upstream.js';
import { startTestGateway, type TestGateway } from '../../helpers/test-gateway.js';

const LIMITED_SECRET = 'limited-secret-with-enough-entropy-1';
let upstream: RecordingUpstream;
let yaml: string;
const gateways: TestGateway[] = [];

beforeAll(async () => {
  upstream = await startRecordingUpstream();
  yaml = await standardConfig({
    upstream: upstream.url,
    serverExtra: '  failed_auth_limit: 3/h',
    extraClients: `
  - id: limited
    secret_hash: "${await hashSecret(LIMITED_SECRET)}"
    scopes: [menu:read]
    rate_limit: 3/min
`,
  });
});
afterEach(async () => {
  await Promise.all(gateways.splice(0).map((g) => g.close()));
  upstream.requests.length = 0;
});
afterAll(async () => {
  await upstream?.close();
});

async function gateway(dir?: string): Promise<TestGateway> {
  const g = await startTestGateway(yaml, { dir });
  gateways.push(g);
  return g;
}

/** A request from a chosen loopback address. */
function from(
  address: string,
  base: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<RawResponse> {
  return send(base, method, path, Object.entries(headers).flat(), body, address);
}

const secretOf = (id: string, secret: string) => ({ 'X-Client-Id': id, 'X-Client-Secret': secret });
const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
const tokenRequest = (address: string, base: string, id: string, secret: string) =>
  from(
    address,
    base,
    'POST',
    '/oauth/token',
    { Authorization: basic(id, secret), 'Content-Type': 'application/x-www-form-urlencoded' },
    'grant_type=client_credentials',
  );

function expect429(res: RawResponse, policy: string, quota: number, windowS: number) {
  expect(res.status).toBe(429);
  expect(res.headers['content-type']).toBe('application/json');
  expect(res.headers['cache-control']).toBe('no-store');
  expect(res.headers['www-authenticate']).toBeUndefined();
  expect(res.json()).toMatchObject({ error: 'rate_limited', error_description: expect.any(String) });
  const retry = Number(res.headers['retry-after']);
  expect(retry).toBeGreaterThanOrEqual(1);
  expect(retry).toBeLessThanOrEqual(windowS);
  expect(res.headers['ratelimit-policy']).toBe(`"${policy}";q=${quota};w=${windowS}`);
  expect(res.headers.ratelimit).toBe(`"${policy}";r=0;t=${retry}`);
}

describe('per client: rate_limit', () => {
  it('lets the limit through, then answers 429 without forwarding; other clients are not affected', async () => {
    const g = await gateway();
    for (let i = 0; i < 3; i++)
      expect((await from('127.0.0.1', g.url, 'GET', '/api/menu', secretOf('limited', LIMITED_SECRET))).status).toBe(
        200,
      );
    const res = await from('127.0.0.1', g.url, 'GET', '/api/menu', secretOf('limited', LIMITED_SECRET));
    expect429(res, 'client', 3, 60);
    expect(Number(res.headers['retry-after'])).toBeLessThanOrEqual(20); // one token comes back every 20 s
    expect(upstream.requests).toHaveLength(3);
    // the limit is per client, whatever the address or credential kind
    expect((await from('127.0.0.9', g.url, 'GET', '/api/menu', secretOf('limited', LIMITED_SECRET))).status).toBe(429);
    expect((await from('127.0.0.1', g.url, 'GET', '/api/menu', secretOf('pos', SECRETS.posSecret))).status).toBe(200);
    await new Promise((r) => setTimeout(r, 20));
    expect(g.logs.findLast((l) => l.msg === 'request' && l.client_id === 'limited')).toMatchObject({
      decision: 'deny',
      reason: 'rate_limited',
      status: 429,
    });
  });
});

describe('failed credential checks: failed_auth_limit', () => {
  it('per address: after the limit, that address is refused before any check, even with good credentials', async () => {
    const g = await gateway();
    for (let i = 0; i < 3; i++)
      expect(
        (await from('127.0.0.2', g.url, 'GET', '/api/menu', { 'X-Api-Key': `wrong-key-${i}-0123456789abcdef` })).status,
      ).toBe(401);
    expect429(
      await from('127.0.0.2', g.url, 'GET', '/api/menu', { 'X-Api-Key': SECRETS.menuKey }),
      'failed_auth',
      3,
      3600,
    );
    expect429(await tokenRequest('127.0.0.2', g.url, 'pos', SECRETS.posSecret), 'failed_auth', 3, 3600);
    // what carries no credential still passes; other addresses are not affected
    expect((await from('127.0.0.2', g.url, 'GET', '/api/public/x')).status).toBe(200);
    expect((await from('127.0.0.3', g.url, 'GET', '/api/menu', { 'X-Api-Key': SECRETS.menuKey })).status).toBe(200);
    expect(upstream.requests).toHaveLength(2);
  });

  it('per client id: failures from many addresses block that client id, at the gateway and the token endpoint', async () => {
    const g = await gateway();
    for (let i = 0; i < 3; i++) {
      expect(
        (await from(`127.0.1.${i + 1}`, g.url, 'GET', '/api/menu', secretOf('pos', `wrong-secret-${i}-0123456789`)))
          .status,
      ).toBe(401);
    }
    expect429(
      await from('127.0.1.10', g.url, 'GET', '/api/menu', secretOf('pos', SECRETS.posSecret)),
      'failed_auth',
      3,
      3600,
    );
    expect429(await tokenRequest('127.0.1.11', g.url, 'pos', SECRETS.posSecret), 'failed_auth', 3, 3600);
    expect(
      (await from('127.0.1.10', g.url, 'GET', '/api/menu', secretOf('booking', SECRETS.bookingSecret))).status,
    ).toBe(200);
  });

  it('failed client authentication at the token endpoint counts too', async () => {
    const g = await gateway();
    for (let i = 0; i < 3; i++)
      expect((await tokenRequest(`127.0.2.${i + 1}`, g.url, 'pos', `wrong-${i}-0123456789abcdef`)).status).toBe(401);
    expect429(await tokenRequest('127.0.2.10', g.url, 'pos', SECRETS.posSecret), 'failed_auth', 3, 3600);
    expect429(
      await from('127.0.2.11', g.url, 'GET', '/api/menu', secretOf('pos', SECRETS.posSecret)),
      'failed_auth',
      3,
      3600,
    );
  });

  it('the counters live in the store: instances that share it share the count', async () => {
    const a = await gateway();
    const b = await gateway(a.dir);
    const wrong = (g: TestGateway, i: number) =>
      from('127.0.3.1', g.url, 'GET', '/api/menu', { 'X-Api-Key': `nope-${i}-0123456789abcdef` });
    expect((await wrong(a, 1)).status).toBe(401);
    expect((await wrong(a, 2)).status).toBe(401);
    expect((await wrong(b, 3)).status).toBe(401);
    // the fourth failure goes over the shared limit on either instance
    expect429(await wrong(a, 4), 'failed_auth', 3, 3600);
  });

  it('valid credentials and missing credentials do not count', async () => {
    const g = await gateway();
    for (let i = 0; i < 5; i++) {
      expect((await from('127.0.4.1', g.url, 'GET', '/api/menu')).status).toBe(401);
      expect((await from('127.0.4.1', g.url, 'GET', '/api/menu', { 'X-Api-Key': SECRETS.menuKey })).status).toBe(200);
    }
  });
});
