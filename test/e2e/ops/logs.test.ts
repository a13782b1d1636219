/**
 * SPEC.md 7 "Logs": one JSON line per request with route, client_id, auth_method, decision, reason, status and
 * latency_ms, and no credential anywhere: every secret, token and key this file uses is searched in every line.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SECRETS, standardConfig } from '../../helpers/fixtures.js';
import { getToken, send } from '../../helpers/http.js';
import { startRecordingUpstream, type RecordingUpstream } from '../../helpers/recording-upstream.js';
import { startTestGateway, type TestGateway } from '../../helpers/test-gateway.js';

let upstream: RecordingUpstream;
let gw: TestGateway;
/** every credential sent in this file */
const used = new Set<string>(Object.values(SECRETS));

beforeAll(async () => {
  upstream = await startRecordingUpstream();
  gw = await startTestGateway(
    await standardConfig({ upstream: upstream.url, serverExtra: '  failed_auth_limit: 1000/min' }),
  );
});
afterAll(async () => {
  await gw?.close();
  await upstream?.close();
});

const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
const form = (params: Record<string, string>, headers: Record<string, string> = {}) =>
  fetch(`${gw.url}/oauth/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(params),
  });

async function settle(): Promise<void> {
  // Lines are written on 'finish'; let the last ones land.
  await new Promise((r) => setTimeout(r, 50));
}

const requestLines = () => gw.logs.filter((l) => l.msg === 'request');

describe('a batch of requests with every kind of credential', () => {
  beforeAll(async () => {
    const t1 = await getToken(gw.url, 'pos', SECRETS.posSecret);
    const t2 = await getToken(gw.url, 'booking', SECRETS.bookingSecret, { organization_id: 'rest-berlin' });
    const access = t1.access_token as string;
    const refresh = t1.refresh_token as string;
    used
      .add(access)
      .add(refresh)
      .add(t2.access_token as string);
    used.add(basic('pos', SECRETS.posSecret).slice(6));

    // Body credentials and a refresh grant at the token endpoint.
    const bodyGrant = (await (
      await form({ grant_type: 'client_credentials', client_id: 'pos', client_secret: SECRETS.posSecret })
    ).json()) as Record<string, string>;
    used.add(bodyGrant.access_token!).add(bodyGrant.refresh_token!);
    const refreshed = (await (
      await form(
        { grant_type: 'refresh_token', refresh_token: refresh },
        { Authorization: basic('pos', SECRETS.posSecret) },
      )
    ).json()) as Record<string, string>;
    used.add(refreshed.access_token!).add(refreshed.refresh_token!);
    // Failed client authentication, both ways, with secrets that must not show up either.
    const wrong = 'wrong-secret-that-must-not-be-logged-1';
    used.add(wrong).add(basic('pos', wrong).slice(6));
    await form({ grant_type: 'client_credentials' }, { Authorization: basic('pos', wrong) });
    await form({ grant_type: 'client_credentials', client_id: 'pos', client_secret: wrong });
    // Revocation with the client's Basic credentials.
    await fetch(`${gw.url}/oauth/revoke`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: basic('pos', SECRETS.posSecret) },
      body: new URLSearchParams({ token: bodyGrant.refresh_token! }),
    });

    // The gateway itself: each credential kind, good and bad, and credentials in query strings.
    const badToken = 'eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJ4In0.bad-signature-not-logged';
    const badKey = 'unknown-key-that-must-not-be-logged-0123';
    used.add(badToken).add(badKey);
    const queries = ['access_token', 'client_secret', 'api_key'].map(
      (name) => `${name}=query-${name}-value-not-logged`,
    );
    for (const q of queries) used.add(q.split('=')[1]!);
    const requests: [string, string, string[]][] = [
      ['GET', '/api/menu', ['Authorization', `Bearer ${access}`]],
      ['GET', '/api/organizations/rest-berlin/reservations', ['Authorization', `Bearer ${t2.access_token as string}`]],
      ['GET', '/api/menu', ['Authorization', `Bearer ${badToken}`]],
      ['GET', '/api/menu', ['X-Api-Key', SECRETS.menuKey]],
      ['GET', '/api/orders', ['X-Api-Key', SECRETS.fullKey]],
      ['GET', '/api/menu', ['X-Api-Key', badKey]],
      ['GET', '/api/orders', ['X-Client-Id', 'pos', 'X-Client-Secret', SECRETS.posSecret]],
      ['GET', '/api/orders', ['X-Client-Id', 'pos', 'X-Client-Secret', wrong]],
      ['GET', '/api/menu', ['Authorization', basic('pos', SECRETS.posSecret)]],
      ['POST', '/api/menu', ['Authorization', `Bearer ${access}`]],
      ...queries.map((q): [string, string, string[]] => [
        'GET',
        `/api/menu?${q}`,
        ['Authorization', `Bearer ${access}`],
      ]),
      ...queries.map((q): [string, string, string[]] => ['GET', `/api/public/x?${q}`, []]),
      ['GET', `/nowhere?${queries[1]}`, []],
      ['GET', '/admin/clients', ['Authorization', `Bearer ${SECRETS.adminToken}`]],
    ];
    for (const [method, path, headers] of requests) await send(gw.url, method, path, headers);
    await settle();
  });

  it('no log line contains any secret, token or key that was used', () => {
    expect(gw.rawLogs.length).toBeGreaterThan(20);
    for (const line of gw.rawLogs) {
      for (const secret of used) expect(line, `a log line contains a credential: ${line}`).not.toContain(secret);
    }
  });

  it('no log line has a query string', () => {
    for (const line of gw.rawLogs) expect(line).not.toMatch(/[?&](access_token|client_secret|api_key)=/);
  });

  it('every request line carries the SPEC.md 7 fields', () => {
    const lines = requestLines();
    expect(lines.length).toBeGreaterThanOrEqual(24);
    for (const line of lines) {
      expect(line.level).toBe('info');
      expect(['allow', 'deny', 'would_deny']).toContain(line.decision);
      expect(typeof line.status).toBe('number');
      expect(typeof line.latency_ms).toBe('number');
      expect(line.route === undefined || typeof line.route === 'string').toBe(true);
      if (line.decision === 'deny') expect(typeof line.reason).toBe('string');
    }
    expect(lines).toContainEqual(
      expect.objectContaining({
        route: '/api/menu/**',
        client_id: 'pos',
        auth_method: 'bearer',
        decision: 'allow',
        status: 200,
      }),
    );
    expect(lines).toContainEqual(
      expect.objectContaining({ route: '/api/menu/**', client_id: 'pos', auth_method: 'api_key', decision: 'allow' }),
    );
    expect(lines).toContainEqual(
      expect.objectContaining({
        route: '/api/orders/**',
        client_id: 'pos',
        auth_method: 'client_secret',
        decision: 'allow',
      }),
    );
    expect(lines).toContainEqual(
      expect.objectContaining({
        route: '/api/menu/**',
        decision: 'deny',
        reason: 'insufficient_scope',
        status: 403,
        client_id: 'pos',
      }),
    );
    expect(lines).toContainEqual(
      expect.objectContaining({ route: '/api/menu/**', decision: 'deny', reason: 'unknown_api_key', status: 401 }),
    );
    expect(lines).toContainEqual(expect.objectContaining({ decision: 'deny', reason: 'no_route', status: 404 }));
  });

  it('token endpoint requests are logged too, with the client once it authenticated', () => {
    const lines = requestLines().filter((l) => l.route === 'issuer:token');
    expect(lines.length).toBe(6);
    expect(lines.filter((l) => l.decision === 'allow' && l.status === 200 && l.client_id === 'pos').length).toBe(3);
    expect(lines.filter((l) => l.decision === 'allow' && l.status === 200 && l.client_id === 'booking').length).toBe(1);
    expect(lines.filter((l) => l.decision === 'deny' && l.status === 401).length).toBe(2);
    const revoke = requestLines().filter((l) => l.route === 'issuer:revocation');
    expect(revoke).toEqual([expect.objectContaining({ decision: 'allow', status: 200, method: 'POST' })]);
  });
});
