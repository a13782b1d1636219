/**
 * Issue 11 item 10: logs say why and hold no secret. Token-endpoint denials carry the reason the endpoint decided
 * (not `http_401`); a credential written into the path (`;access_token=`, `%3Faccess_token=`, `;client_secret=` ...)
 * is redacted in the logged path; C1 controls, U+2028/U+2029 and bidi overrides from token claims are escaped in
 * the raw line. After the suite every log line is checked for all three.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { send } from '../../helpers/http.js';
import { jwksOf, makeKey, startJwksServer, type JwksServer, type TestKey } from '../../helpers/jwks-server.js';
import {
  SECRETS,
  expectError,
  expectNothingForwarded,
  expectNotLogged,
  startHostile,
  type Hostile,
} from './harness.js';

const FORM = ['Content-Type', 'application/x-www-form-urlencoded'];
const enc = encodeURIComponent;
/** every character a log line must not hold raw */
const RAW_UNSAFE = /[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\u200b-\u200f\ufeff]/;
const PATH_SECRET = 'path-secret-0123456789abcdefghij';
const EVIL_ID = 'evil\u0085line\u2028sep\u2029para\u009b31m\u202egnp.exe\u0080\u007f';

let h: Hostile;
let jwks: JwksServer;
let key: TestKey;
beforeAll(async () => {
  key = await makeKey('ES256');
  jwks = await startJwksServer(jwksOf(key));
  h = await startHostile({
    extraClients: `  - id: lapsed
    secret: \${LAPSED_SECRET}
    scopes: [menu:read]
    expires_at: 2020-01-01T00:00:00Z
`,
    // a top-level section after the issuer's keys
    issuerExtra: `trusted_issuers:
  - issuer: https://idp.test/
    jwks_uri: ${jwks.url}
    audience: restaurant-api
    algorithms: [ES256]
`,
  });
});
afterAll(async () => {
  await h?.close();
  await jwks?.close();
});
beforeEach(() => {
  h.upstream.requests.length = 0;
});
process.env.LAPSED_SECRET = SECRETS.posSecret;

const lastTokenLine = () => h.gw.logs.filter((l) => l.route === 'issuer:token').at(-1)!;

describe('token-endpoint denials are logged with their reason', () => {
  const cases: [string, string[], string, number, string][] = [
    [
      'wrong secret',
      FORM,
      'grant_type=client_credentials&client_id=pos&client_secret=wrong',
      401,
      'bad_client_credentials',
    ],
    [
      'unknown client',
      FORM,
      'grant_type=client_credentials&client_id=nobody&client_secret=x',
      401,
      'bad_client_credentials',
    ],
    [
      'expired client',
      FORM,
      `grant_type=client_credentials&client_id=lapsed&client_secret=${enc(SECRETS.posSecret)}`,
      401,
      'client_expired',
    ],
    [
      'unknown refresh token',
      FORM,
      `grant_type=refresh_token&refresh_token=nope&client_id=pos&client_secret=${enc(SECRETS.posSecret)}`,
      400,
      'unknown_refresh_token',
    ],
    [
      'scope not granted',
      FORM,
      `grant_type=client_credentials&scope=admin&client_id=pos&client_secret=${enc(SECRETS.posSecret)}`,
      400,
      'scope_not_allowed',
    ],
    [
      'unsupported grant',
      FORM,
      `grant_type=password&client_id=pos&client_secret=${enc(SECRETS.posSecret)}`,
      400,
      'unsupported_grant_type',
    ],
    ['no credentials', FORM, 'grant_type=client_credentials', 401, 'no_client_credentials'],
  ];
  for (const [name, headers, body, status, reason] of cases) {
    it(`${name}: ${status}, reason ${reason}`, async () => {
      const res = await send(h.gw.url, 'POST', '/oauth/token', headers, body);
      expect(res.status).toBe(status);
      const line = lastTokenLine();
      expect(line).toMatchObject({ decision: 'deny', status, reason });
    });
  }

  it('a replayed refresh token: refresh_token_replayed', async () => {
    const creds = `client_id=pos&client_secret=${enc(SECRETS.posSecret)}`;
    const body = `grant_type=refresh_token&refresh_token=${enc(h.posRefresh)}&${creds}`;
    expect((await send(h.gw.url, 'POST', '/oauth/token', FORM, body)).status).toBe(200);
    expect((await send(h.gw.url, 'POST', '/oauth/token', FORM, body)).status).toBe(400);
    expect(lastTokenLine()).toMatchObject({ decision: 'deny', reason: 'refresh_token_replayed' });
  });
});

describe('credentials written into the path are redacted in the log', () => {
  const shapes = [
    `;access_token=${PATH_SECRET}`,
    `%3Baccess_token=${PATH_SECRET}`,
    `%3Faccess_token=${PATH_SECRET}`,
    `%3faccess_token%3d${PATH_SECRET}`,
    `%3Fx=1%26client_secret=${PATH_SECRET}`,
    `;api_key=${PATH_SECRET};x=1`,
    `;refresh_token=${PATH_SECRET}`,
    `;code=${PATH_SECRET}`,
    `/access_token=${PATH_SECRET}`,
    `;%61ccess_token=${PATH_SECRET}`,
  ];
  for (const shape of shapes) {
    it(`/api/public/x${shape}: forwarded as sent, logged redacted`, async () => {
      const before = h.gw.rawLogs.length;
      const res = await send(h.gw.url, 'GET', `/api/public/x${shape}`);
      expect(res.status).toBe(200);
      const lines = h.gw.rawLogs.slice(before);
      expect(lines.join('\n')).not.toContain(PATH_SECRET);
      const line = JSON.parse(lines.find((l) => l.includes('"request"'))!) as Record<string, unknown>;
      expect(line.path).toMatch(/\[redacted\]/);
    });
  }

  it('on a protected route too (denied 401, the path is logged redacted)', async () => {
    const before = h.gw.rawLogs.length;
    expectError(await send(h.gw.url, 'GET', `/api/menu/1;access_token=${PATH_SECRET}`), 401, 'invalid_token');
    expectNothingForwarded(h);
    expect(h.gw.rawLogs.slice(before).join('\n')).not.toContain(PATH_SECRET);
  });
});

describe('control and separator characters from token claims are escaped in the log line', () => {
  it('a trusted issuer token whose client_id holds C1, U+2028/2029 and a bidi override', async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = await key.sign({
      iss: 'https://idp.test/',
      aud: 'restaurant-api',
      sub: EVIL_ID,
      client_id: EVIL_ID,
      scope: 'menu:read',
      iat: now,
      exp: now + 300,
    });
    const before = h.gw.rawLogs.length;
    const res = await send(h.gw.url, 'GET', '/api/menu/1', ['Authorization', `Bearer ${token}`]);
    expect(res.status).toBe(200);
    const lines = h.gw.rawLogs.slice(before);
    const line = lines.find((l) => l.includes('"request"'))!;
    expect(RAW_UNSAFE.test(line), JSON.stringify(line)).toBe(false);
    // escaped, not lost: the JSON still reads as the claim
    expect((JSON.parse(line) as Record<string, unknown>).client_id).toBe(EVIL_ID);
    expect(h.upstream.requests[0]!.headers['x-auth-client-id']).toBe(encodeURIComponent(EVIL_ID));
  });
});

describe('every log line of the suite', () => {
  it('holds no raw control or separator character, no secret, and no http_NNN reason', () => {
    expect(h.gw.rawLogs.length).toBeGreaterThan(20);
    for (const raw of h.gw.rawLogs) {
      expect(RAW_UNSAFE.test(raw), raw).toBe(false);
      const line = JSON.parse(raw) as Record<string, unknown>;
      if (line.reason !== undefined) expect(String(line.reason), raw).not.toMatch(/^http_\d+$/);
    }
    expectNotLogged(h.gw, [PATH_SECRET, SECRETS.posSecret, h.posToken, h.posRefresh]);
  });
});
