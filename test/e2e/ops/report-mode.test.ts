/**
 * SPEC.md 7 "Report mode": would-be 401/403 are forwarded without identity headers and logged `would_deny` with the
 * reason; no route (404), a bad path (400) and framing errors are still refused.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SECRETS, standardConfig } from '../../helpers/fixtures.js';
import { getToken, rawRequest, send } from '../../helpers/http.js';
import { startRecordingUpstream, type RecordingUpstream } from '../../helpers/recording-upstream.js';
import { startTestGateway, type TestGateway } from '../../helpers/test-gateway.js';

let upstream: RecordingUpstream;
let gw: TestGateway;
let posToken: string;

beforeAll(async () => {
  upstream = await startRecordingUpstream();
  gw = await startTestGateway(await standardConfig({ upstream: upstream.url, mode: 'report' }));
  posToken = (await getToken(gw.url, 'pos', SECRETS.posSecret)).access_token as string;
});
afterAll(async () => {
  await gw?.close();
  await upstream?.close();
});
beforeEach(() => {
  upstream.requests.length = 0;
});

/** The request log line of the last request to `path`, once it is written. */
async function requestLine(path: string): Promise<Record<string, unknown>> {
  for (let i = 0; i < 100; i++) {
    const line = gw.logs.findLast((l) => l.msg === 'request' && l.path === path);
    if (line) return line;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`no request line for ${path}`);
}

function forwardedWithoutIdentity() {
  expect(upstream.requests).toHaveLength(1);
  const headers = upstream.requests[0]!.headers;
  for (const name of Object.keys(headers)) expect(name.startsWith('x-auth-')).toBe(false);
  return upstream.requests[0]!;
}

describe('would-be denials are forwarded and logged', () => {
  const cases: [string, string, string[], string][] = [
    ['no credentials (401)', '/api/menu/a', [], 'no_credentials'],
    ['a bad token (401)', '/api/menu/b', ['Authorization', 'Bearer not-a-token'], 'unknown_token'],
    ['an unknown API key (401)', '/api/menu/c', ['X-Api-Key', 'no-such-key-0123456789abcdef'], 'unknown_api_key'],
    [
      'a wrong client secret (401)',
      '/api/menu/d',
      ['X-Client-Id', 'pos', 'X-Client-Secret', 'wrong-secret-0123456789'],
      'invalid_client',
    ],
  ];
  for (const [name, path, headers, reason] of cases) {
    it(name, async () => {
      const res = await send(gw.url, 'GET', path, headers);
      expect(res.status).toBe(200);
      expect(res.headers['x-upstream']).toBe('yes');
      const r = forwardedWithoutIdentity();
      expect(r.headers.authorization).toBeUndefined();
      expect(r.headers['x-api-key']).toBeUndefined();
      expect(r.headers['x-client-secret']).toBeUndefined();
      const line = await requestLine(path.replace('/api', ''));
      expect(line).toMatchObject({ decision: 'would_deny', reason, status: 200, route: '/api/menu/**' });
    });
  }

  it('a missing scope (403): forwarded without the caller’s identity, logged with the reason and client', async () => {
    const res = await send(gw.url, 'POST', '/api/menu/e', ['Authorization', `Bearer ${posToken}`]);
    expect(res.status).toBe(200);
    forwardedWithoutIdentity();
    const line = await requestLine('/menu/e');
    expect(line).toMatchObject({
      decision: 'would_deny',
      reason: 'insufficient_scope',
      client_id: 'pos',
      auth_method: 'bearer',
    });
  });

  it('an allowed request still carries identity headers', async () => {
    expect((await send(gw.url, 'GET', '/api/menu/f', ['Authorization', `Bearer ${posToken}`])).status).toBe(200);
    expect(upstream.requests[0]!.headers['x-auth-client-id']).toBe('pos');
    expect(await requestLine('/menu/f')).toMatchObject({ decision: 'allow', client_id: 'pos' });
  });

  it('writes exactly one log line per request', async () => {
    const before = gw.logs.length;
    await send(gw.url, 'GET', '/api/menu/g');
    await requestLine('/menu/g');
    expect(gw.logs.slice(before)).toHaveLength(1);
  });
});

describe('everything else is still refused', () => {
  it('no route: 404, not forwarded', async () => {
    expect((await send(gw.url, 'GET', '/nothing/here')).status).toBe(404);
    expect(upstream.requests).toHaveLength(0);
  });

  it('a bad path: 400, not forwarded', async () => {
    expect((await send(gw.url, 'GET', '/api/menu%2f..%2forders')).status).toBe(400);
    expect(upstream.requests).toHaveLength(0);
  });

  it('ambiguous credentials (two methods): 400, not forwarded', async () => {
    const res = await send(gw.url, 'GET', '/api/menu', [
      'Authorization',
      `Bearer ${posToken}`,
      'X-Api-Key',
      SECRETS.menuKey,
    ]);
    expect(res.status).toBe(400);
    expect(upstream.requests).toHaveLength(0);
  });

  it('an access_token in the query: 400, not forwarded', async () => {
    expect((await send(gw.url, 'GET', '/api/menu?access_token=abc')).status).toBe(400);
    expect(upstream.requests).toHaveLength(0);
  });

  it('bad framing: 400, not forwarded', async () => {
    const out = await rawRequest(
      gw.url,
      'GET /api/menu HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n',
    );
    expect(out).toMatch(/^HTTP\/1\.1 400/);
    expect(upstream.requests).toHaveLength(0);
  });

  it('a method without a scope entry: 405, not forwarded', async () => {
    expect((await send(gw.url, 'DELETE', '/api/orders/1', ['Authorization', `Bearer ${posToken}`])).status).toBe(405);
    expect(upstream.requests).toHaveLength(0);
  });
});
