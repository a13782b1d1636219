/**
 * THREATS.md "Credentials at rest and in logs": an unknown client and a wrong secret cannot be told apart (body,
 * challenge, and roughly the time: both pay the slow hash), secrets of any length are compared without throwing,
 * nothing secret is ever logged, failed checks are rate-limited, and a revocation empties the success cache.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { send } from '../../helpers/http.js';
import {
  SECRETS,
  expectError,
  expectNothingForwarded,
  expectNotLogged,
  startHostile,
  type Hostile,
} from './harness.js';

let h: Hostile;
const used: string[] = [];
beforeAll(async () => {
  h = await startHostile();
});
afterAll(async () => {
  await h?.close();
});
beforeEach(() => {
  h.upstream.requests.length = 0;
});

const secretHeaders = (id: string, secret: string) => ['X-Client-Id', id, 'X-Client-Secret', secret];

describe('unknown client, wrong secret, wrong key: indistinguishable', () => {
  it('unknown client id and wrong secret give byte-identical answers', async () => {
    const wrong = await send(h.gw.url, 'GET', '/api/menu', secretHeaders('pos', 'not-the-secret-000000'));
    const unknown = await send(h.gw.url, 'GET', '/api/menu', secretHeaders('nobody-here', 'not-the-secret-000000'));
    const revokedLike = await send(h.gw.url, 'GET', '/api/menu', secretHeaders('booking', SECRETS.posSecret));
    for (const res of [wrong, unknown, revokedLike]) expectError(res, 401, 'invalid_client');
    expect(new Set([wrong.body, unknown.body, revokedLike.body]).size).toBe(1);
    expect(new Set([wrong, unknown, revokedLike].map((r) => r.headers['www-authenticate'])).size).toBe(1);
    expectNothingForwarded(h);
  });

  it('secrets of every length are compared without error (timingSafeEqual needs equal lengths)', async () => {
    const bodies = new Set<string>();
    for (const secret of [
      'x',
      'ab',
      SECRETS.posSecret.slice(0, -1),
      `${SECRETS.posSecret}x`,
      'y'.repeat(1000),
      'z'.repeat(8192),
    ]) {
      used.push(secret);
      const res = await send(h.gw.url, 'GET', '/api/menu', secretHeaders('pos', secret));
      expectError(res, 401, 'invalid_client');
      bodies.add(res.body);
    }
    expect(bodies.size).toBe(1);
    expectNothingForwarded(h);
  });

  it('a secret longer than 8 KiB or with non-visible characters is malformed: 400', async () => {
    expectError(
      await send(h.gw.url, 'GET', '/api/menu', secretHeaders('pos', 'z'.repeat(8193))),
      400,
      'invalid_request',
    );
    expectError(await send(h.gw.url, 'GET', '/api/menu', secretHeaders('pos', 'with space')), 400, 'invalid_request');
    expectError(await send(h.gw.url, 'GET', '/api/menu', secretHeaders('po s', 'x')), 400, 'invalid_request');
    expectNothingForwarded(h);
  });

  it('unknown API keys of any shape: the same 401', async () => {
    const bodies = new Set<string>();
    const near = `${SECRETS.menuKey.slice(0, -1)}${SECRETS.menuKey.endsWith('5') ? '6' : '5'}`;
    for (const key of [
      near,
      SECRETS.menuKey.toUpperCase(),
      SECRETS.menuKey.slice(0, 8),
      `${SECRETS.menuKey}0`,
      'k',
      'k'.repeat(8192),
      `sha256:${'0'.repeat(64)}`,
    ]) {
      const res = await send(h.gw.url, 'GET', '/api/menu', ['X-Api-Key', key]);
      expectError(res, 401, 'invalid_token');
      bodies.add(res.body);
    }
    expect(bodies.size).toBe(1);
    expectNothingForwarded(h);
  });

  it('the stored hash of a key is not a key', async () => {
    const { hashApiKey } = await import('../../../src/auth/secret-hash.js');
    const res = await send(h.gw.url, 'GET', '/api/menu', ['X-Api-Key', hashApiKey(SECRETS.menuKey)]);
    expectError(res, 401, 'invalid_token');
    expectNothingForwarded(h);
  });

  it('an unknown client pays the slow hash too (no fast path that reveals which ids exist)', async () => {
    const time = async (id: string) => {
      const started = process.hrtime.bigint();
      await send(h.gw.url, 'GET', '/api/menu', secretHeaders(id, `wrong-${Math.random()}`));
      return Number(process.hrtime.bigint() - started) / 1e6;
    };
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 7; i++) {
      known.push(await time('pos'));
      unknown.push(await time(`ghost-${i}`));
    }
    // scrypt dominates both; a missing dummy hash would make the unknown id an order of magnitude faster
    expect(median(unknown)).toBeGreaterThan(median(known) * 0.4);
    expect(median(known)).toBeGreaterThan(median(unknown) * 0.4);
  });
});

describe('more credential shapes', () => {
  it('client ids are exact: another case or a trailing dot is an unknown client', async () => {
    const bodies = new Set<string>();
    for (const id of ['POS', 'Pos', 'pos.', 'pos%20']) {
      const res = await send(h.gw.url, 'GET', '/api/orders', secretHeaders(id, SECRETS.posSecret));
      expectError(res, 401, 'invalid_client');
      bodies.add(res.body);
    }
    expect(bodies.size).toBe(1);
    expectNothingForwarded(h);
  });

  it('the right secret with surrounding whitespace is trimmed like any header value, then checked exactly', async () => {
    const res = await send(h.gw.url, 'GET', '/api/orders', secretHeaders('pos', ` ${SECRETS.posSecret} `));
    expect(res.status).toBe(200);
    expect(h.upstream.requests[0]!.headers['x-client-secret']).toBeUndefined();
    expect(h.upstream.requests[0]!.headers['x-auth-client-id']).toBe('pos');
  });

  it('an API key on a route that accepts only API keys, and a client secret there: 401', async () => {
    expect((await send(h.gw.url, 'GET', '/api/keys-only/x', ['X-Api-Key', SECRETS.menuKey])).status).toBe(200);
    h.upstream.requests.length = 0;
    expectError(
      await send(h.gw.url, 'GET', '/api/keys-only/x', secretHeaders('pos', SECRETS.posSecret)),
      401,
      'invalid_token',
    );
    expectNothingForwarded(h);
  });

  it('an API key grants only its own scopes, never its client’s', async () => {
    expectError(await send(h.gw.url, 'GET', '/api/orders', ['X-Api-Key', SECRETS.menuKey]), 403, 'insufficient_scope');
    expectNothingForwarded(h);
  });
});

describe('nothing secret is logged', () => {
  it('tokens, signatures, API keys, secrets, Basic values and secret query parameters', async () => {
    const basic = Buffer.from(`pos:${SECRETS.posSecret}`).toString('base64');
    const querySecret = 'query-secret-value-0123456789';
    const requests: [string, string, string[]][] = [
      ['GET', '/api/menu', ['Authorization', `Bearer ${h.posToken}`]],
      ['GET', '/api/menu', ['Authorization', `Bearer ${h.posToken}x`]],
      ['GET', '/api/menu', ['X-Api-Key', SECRETS.menuKey]],
      ['GET', '/api/menu', ['X-Api-Key', `${SECRETS.fullKey}-wrong`]],
      ['GET', '/api/orders', secretHeaders('pos', SECRETS.posSecret)],
      ['GET', '/api/orders', secretHeaders('pos', `${SECRETS.posSecret}-wrong`)],
      ['GET', '/api/menu', ['Authorization', `Basic ${basic}`]],
      ['GET', `/api/menu?access_token=${querySecret}`, []],
      ['GET', `/api/public/x?access_token=${querySecret}&client_secret=${querySecret}&api_key=${querySecret}`, []],
      ['GET', `/api/public/x?api_key=${querySecret}`, ['X-Api-Key', SECRETS.fullKey]],
      ['GET', '/api/menu', ['Authorization', `Bearer ${h.posToken}`, 'X-Api-Key', SECRETS.fullKey]],
      ['GET', '/api/menu', ['Authorization', `Bearer ${h.posToken}`, 'Authorization', `Bearer ${h.berlinToken}`]],
      ['GET', `/api/nothing?access_token=${querySecret}`, ['Authorization', `Bearer ${h.berlinToken}`]],
      [
        'POST',
        `/oauth/token?client_secret=${querySecret}`,
        ['Authorization', `Basic ${basic}`, 'Content-Type', 'application/x-www-form-urlencoded'],
      ],
      ['POST', '/oauth/token', ['Content-Type', 'application/x-www-form-urlencoded']],
    ];
    for (const [method, path, headers] of requests) {
      const body =
        path === '/oauth/token'
          ? `grant_type=client_credentials&client_id=pos&client_secret=${SECRETS.posSecret}`
          : 'grant_type=client_credentials';
      const res = await send(h.gw.url, method, path, headers, method === 'POST' ? body : undefined);
      expect(res.status).toBeLessThan(500);
    }
    await new Promise((r) => setTimeout(r, 50));
    expect(h.gw.rawLogs.length).toBeGreaterThan(requests.length - 1);
    expectNotLogged(h.gw, [
      ...used,
      h.posToken,
      h.berlinToken,
      h.posRefresh,
      SECRETS.posSecret,
      SECRETS.bookingSecret,
      SECRETS.menuKey,
      SECRETS.fullKey,
      SECRETS.adminToken,
      basic,
      querySecret,
    ]);
  });
});

describe('failed checks are rate-limited per address and per client id (server.failed_auth_limit)', () => {
  it('after the limit: 429 with Retry-After, even for the right secret, and nothing forwarded', async () => {
    const limited = await startHostile({ serverExtra: '  failed_auth_limit: 5/min' });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 8; i++) {
        statuses.push((await send(limited.gw.url, 'GET', '/api/menu', secretHeaders('pos', `guess-${i}`))).status);
      }
      expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
      expect(statuses.slice(5)).toEqual([429, 429, 429]);
      const right = await send(limited.gw.url, 'GET', '/api/orders', secretHeaders('pos', SECRETS.posSecret));
      expectError(right, 429, 'rate_limited');
      expect(Number(right.headers['retry-after'])).toBeGreaterThan(0);
      expect(limited.upstream.requests).toEqual([]);
    } finally {
      await limited.close();
    }
  });

  it('unknown API keys and garbage tokens count as failures too', async () => {
    const limited = await startHostile({ serverExtra: '  failed_auth_limit: 5/min' });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++)
        statuses.push((await send(limited.gw.url, 'GET', '/api/menu', ['X-Api-Key', `nope-${i}-0123456789`])).status);
      for (let i = 0; i < 4; i++)
        statuses.push((await send(limited.gw.url, 'GET', '/api/menu', ['Authorization', `Bearer nope${i}`])).status);
      expect(statuses).toContain(429);
      expect(limited.upstream.requests).toEqual([]);
    } finally {
      await limited.close();
    }
  });
});

describe('revocation empties the success cache', () => {
  it('a client secret that just worked stops working once the client is revoked', async () => {
    const own = await startHostile();
    try {
      expect((await send(own.gw.url, 'GET', '/api/orders', secretHeaders('pos', SECRETS.posSecret))).status).toBe(200);
      const revoke = await fetch(`${own.gw.adminUrl}/admin/clients/pos/revoke`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${SECRETS.adminToken}` },
      });
      expect(revoke.status).toBe(200);
      own.upstream.requests.length = 0;
      expectError(
        await send(own.gw.url, 'GET', '/api/orders', secretHeaders('pos', SECRETS.posSecret)),
        401,
        'invalid_client',
      );
      expectError(await send(own.gw.url, 'GET', '/api/menu', ['X-Api-Key', SECRETS.menuKey]), 401, 'invalid_token');
      expectError(
        await send(own.gw.url, 'GET', '/api/menu', ['Authorization', `Bearer ${own.posToken}`]),
        401,
        'invalid_token',
      );
      expect(own.upstream.requests).toEqual([]);
    } finally {
      await own.close();
    }
  });
});
