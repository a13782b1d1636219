/**
 * SPEC.md 7 "Admin listener": /metrics in the Prometheus text format on the admin listener, one Registry per gateway,
 * and nothing of the admin listener on the public port.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SECRETS, standardConfig } from '../../helpers/fixtures.js';
import { getToken, send } from '../../helpers/http.js';
import { jwksOf, makeKey, startJwksServer } from '../../helpers/jwks-server.js';
import { startRecordingUpstream, type RecordingUpstream } from '../../helpers/recording-upstream.js';
import { startTestGateway, type TestGateway } from '../../helpers/test-gateway.js';

let upstream: RecordingUpstream;
let gw: TestGateway;
let other: TestGateway;

beforeAll(async () => {
  upstream = await startRecordingUpstream();
  const yaml = await standardConfig({ upstream: upstream.url });
  gw = await startTestGateway(yaml);
  other = await startTestGateway(yaml);
});
afterAll(async () => {
  await gw?.close();
  await other?.close();
  await upstream?.close();
});
beforeEach(() => {
  upstream.requests.length = 0;
});

async function scrape(g: TestGateway): Promise<string> {
  const res = await fetch(`${g.adminUrl!}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return res.text();
}

/** The value of one sample line, e.g. `scopegate_requests_total{route="/api/menu/**",decision="allow",reason="none"}`. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const inside = /\{(.*)\}/.exec(line)?.[1] ?? '';
    const have = inside.split(/,(?=[a-z_]+=")/);
    if (want.every((w) => have.includes(w)) && have.length === want.length) return Number(line.split(' ').at(-1));
  }
  return undefined;
}

describe('/metrics', () => {
  it('counts requests by route, decision and reason, and their duration', async () => {
    const token = (await getToken(gw.url, 'pos', SECRETS.posSecret)).access_token as string;
    for (let i = 0; i < 3; i++) await send(gw.url, 'GET', '/api/menu', ['Authorization', `Bearer ${token}`]);
    await send(gw.url, 'GET', '/api/menu');
    await send(gw.url, 'POST', '/api/menu', ['Authorization', `Bearer ${token}`]);
    await send(gw.url, 'GET', '/nowhere');
    const text = await scrape(gw);
    expect(text).toContain('# TYPE scopegate_requests_total counter');
    expect(sample(text, 'scopegate_requests_total', { route: '/api/menu/**', decision: 'allow', reason: 'none' })).toBe(
      3,
    );
    expect(
      sample(text, 'scopegate_requests_total', { route: '/api/menu/**', decision: 'deny', reason: 'no_credentials' }),
    ).toBe(1);
    expect(
      sample(text, 'scopegate_requests_total', {
        route: '/api/menu/**',
        decision: 'deny',
        reason: 'insufficient_scope',
      }),
    ).toBe(1);
    expect(sample(text, 'scopegate_requests_total', { route: 'none', decision: 'deny', reason: 'no_route' })).toBe(1);
    expect(sample(text, 'scopegate_requests_total', { route: 'issuer:token', decision: 'allow', reason: 'none' })).toBe(
      1,
    );
    expect(text).toContain('# TYPE scopegate_request_duration_seconds histogram');
    expect(sample(text, 'scopegate_request_duration_seconds_count', { route: '/api/menu/**', decision: 'allow' })).toBe(
      3,
    );
    expect(
      sample(text, 'scopegate_request_duration_seconds_bucket', {
        route: '/api/menu/**',
        decision: 'allow',
        le: '+Inf',
      }),
    ).toBe(3);
  });

  it('counts upstream errors', async () => {
    upstream.respond((_req, res) => res.socket?.destroy());
    try {
      expect((await send(gw.url, 'GET', '/api/public/reset')).status).toBe(502);
    } finally {
      upstream.respond(undefined);
    }
    const text = await scrape(gw);
    expect(
      sample(text, 'scopegate_upstream_errors_total', { route: '/api/public/**', reason: 'upstream_unreachable' }),
    ).toBe(1);
  });

  it('exposes cache look-ups and hit ratios', async () => {
    const text = await scrape(gw);
    for (const cache of ['trusted_issuer_tokens', 'jwks_keys', 'introspection']) {
      expect(sample(text, 'scopegate_cache_hit_ratio', { cache })).toBe(0);
      expect(sample(text, 'scopegate_cache_lookups', { cache, result: 'hit' })).toBe(0);
    }
    expect(text).toContain('process_cpu_user_seconds_total');
  });

  it('each gateway has its own registry', async () => {
    await send(other.url, 'GET', '/other-nowhere');
    const mine = await scrape(gw);
    const theirs = await scrape(other);
    expect(sample(theirs, 'scopegate_requests_total', { route: 'none', decision: 'deny', reason: 'no_route' })).toBe(1);
    expect(
      sample(theirs, 'scopegate_requests_total', { route: '/api/menu/**', decision: 'allow', reason: 'none' }),
    ).toBeUndefined();
    expect(sample(mine, 'scopegate_requests_total', { route: '/api/menu/**', decision: 'allow', reason: 'none' })).toBe(
      3,
    );
  });
});

describe('cache hit ratios', () => {
  it('follow the trusted-issuer token cache, also across a reload', async () => {
    const key = await makeKey('ES256');
    const jwks = await startJwksServer(jwksOf(key));
    const yaml = `${await standardConfig({ upstream: upstream.url })}
trusted_issuers:
  - issuer: https://idp.test/
    jwks_uri: ${jwks.url}
    audience: restaurant-api
    algorithms: [ES256]
`;
    const g = await startTestGateway(yaml);
    try {
      const now = Math.floor(Date.now() / 1000);
      const token = await key.sign({
        iss: 'https://idp.test/',
        aud: 'restaurant-api',
        sub: 'pos',
        client_id: 'pos',
        scope: 'menu:read',
        iat: now,
        exp: now + 300,
      });
      for (let i = 0; i < 4; i++)
        expect((await send(g.url, 'GET', '/api/menu', ['Authorization', `Bearer ${token}`])).status).toBe(200);
      let text = await scrape(g);
      expect(sample(text, 'scopegate_cache_lookups', { cache: 'trusted_issuer_tokens', result: 'hit' })).toBe(3);
      expect(sample(text, 'scopegate_cache_lookups', { cache: 'trusted_issuer_tokens', result: 'miss' })).toBe(1);
      expect(sample(text, 'scopegate_cache_hit_ratio', { cache: 'trusted_issuer_tokens' })).toBe(0.75);
      await g.reload();
      text = await scrape(g);
      expect(sample(text, 'scopegate_cache_lookups', { cache: 'trusted_issuer_tokens', result: 'hit' })).toBe(3);
    } finally {
      await g.close();
      await jwks.close();
    }
  });
});

describe('the public port serves nothing of the admin listener', () => {
  for (const [method, path] of [
    ['GET', '/metrics'],
    ['GET', '/healthz'],
    ['GET', '/readyz'],
    ['POST', '/admin/clients/pos/revoke'],
  ] as const) {
    it(`${method} ${path} is 404 there and answered on the admin listener`, async () => {
      const res = await send(gw.url, method, path, ['Authorization', `Bearer ${SECRETS.adminToken}`]);
      expect(res.status).toBe(404);
      expect(res.json().error).toBe('not_found');
      expect(upstream.requests).toHaveLength(0);
      if (method === 'GET') expect((await fetch(`${gw.adminUrl!}${path}`)).status).toBe(200);
    });
  }

  it('the admin listener needs the admin token for the admin API', async () => {
    expect((await fetch(`${gw.adminUrl!}/admin/clients/pos/restore`, { method: 'POST' })).status).toBe(401);
    const ok = await fetch(`${gw.adminUrl!}/admin/clients/pos/restore`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${SECRETS.adminToken}` },
    });
    expect(ok.status).toBe(200);
  });
});
