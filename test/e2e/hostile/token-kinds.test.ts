/**
 * Issue 11.2, RFC 8725 3.11, RFC 9068 4: only access tokens are access tokens. A trusted issuer's JWT whose header
 * `typ` names another kind, or whose payload marks an ID token, a logout token or another security event token, is
 * 401 and reaches no upstream, though its signature is good. `token_types` narrows the accepted `typ` per issuer, and
 * `max_lifetime` (default 24 h) refuses a far-future `exp`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  craftJws,
  jwksOf,
  makeKey,
  signerOf,
  startJwksServer,
  type JwksServer,
  type TestKey,
} from '../../helpers/jwks-server.js';
import { bearer, expectError, expectNothingForwarded, startHostile, type Hostile } from './harness.js';

const LAX = 'https://lax.idp.test/';
const STRICT = 'https://strict.idp.test/';

let h: Hostile;
let jwks: JwksServer;
let key: TestKey;

const nowS = () => Math.floor(Date.now() / 1000);
const claims = (iss: string, extra: Record<string, unknown> = {}) => ({
  iss,
  aud: 'restaurant-api',
  client_id: 'idp-client',
  scope: 'menu:read',
  iat: nowS(),
  exp: nowS() + 600,
  ...extra,
});
/** A token signed with the issuer's own key: header exactly as given (no typ unless set). */
const signed = (header: Record<string, unknown>, payload: Record<string, unknown>) =>
  craftJws({ alg: 'ES256', kid: key.kid, ...header }, payload, signerOf(key));

async function expectRefused(token: string, reason: string) {
  h.upstream.requests.length = 0;
  const res = await bearer(h, '/api/menu/x', token);
  expectError(res, 401, 'invalid_token');
  expect(res.headers['www-authenticate']).toMatch(/error="invalid_token"/);
  expectNothingForwarded(h);
  expect(h.gw.logs.filter((l) => l.msg === 'request').at(-1)).toMatchObject({ decision: 'deny', reason });
}

async function expectAccepted(token: string) {
  const res = await bearer(h, '/api/menu/x', token);
  expect(res.status, res.body).toBe(200);
}

beforeAll(async () => {
  key = await makeKey('ES256');
  jwks = await startJwksServer(jwksOf(key));
  h = await startHostile({
    issuerExtra: `trusted_issuers:
  - issuer: ${LAX}
    jwks_uri: ${jwks.url}
    audience: restaurant-api
    algorithms: [ES256]
  - issuer: ${STRICT}
    jwks_uri: ${jwks.url}
    audience: restaurant-api
    algorithms: [ES256]
    token_types: [at+jwt]
    max_lifetime: 1h
`,
  });
});

afterAll(async () => {
  await h?.close();
  await jwks?.close();
});

describe('header typ (default token_types: absent, JWT, at+jwt)', () => {
  for (const typ of [undefined, 'JWT', 'jwt', 'at+jwt', 'AT+JWT', 'application/at+jwt', 'Application/JWT']) {
    it(`typ ${String(typ)}: accepted`, async () => {
      await expectAccepted(signed(typ === undefined ? {} : { typ }, claims(LAX)));
    });
  }
  for (const typ of [
    'id_token+jwt',
    'logout+jwt',
    'secevent+jwt',
    'application/secevent+jwt',
    'dpop+jwt',
    'token-introspection+jwt',
    'JOSE',
    'application/at+jwt/x',
    'at+jwt ',
    '',
    'absent',
    123,
    ['at+jwt'],
    null,
  ]) {
    it(`typ ${JSON.stringify(typ)}: 401 wrong_token_type`, async () => {
      await expectRefused(signed({ typ }, claims(LAX)), 'wrong_token_type');
    });
  }
});

describe('payload markers of other kinds, whatever the header says', () => {
  const cases: Record<string, Record<string, unknown>> = {
    'typ: id_token': { typ: 'id_token' },
    'typ: ID (Keycloak)': { typ: 'ID' },
    'typ: Logout': { typ: 'Logout' },
    'token_use: id (Cognito)': { token_use: 'id' },
    'token_use: refresh': { token_use: 'refresh' },
    'nonce with at_hash': { nonce: 'n-0S6_WzA2Mj', at_hash: 'HK6E_P6Dh8Y93mRNtsDB1Q' },
    'nonce alone': { nonce: 'n-0S6_WzA2Mj' },
    'nonce: null': { nonce: null },
    'at_hash alone': { at_hash: 'HK6E_P6Dh8Y93mRNtsDB1Q' },
    c_hash: { c_hash: 'LDktKdoQak3Pk0cnXxCltA' },
    'events (back-channel logout token)': { events: { 'http://schemas.openid.net/event/backchannel-logout': {} } },
  };
  for (const [name, extra] of Object.entries(cases)) {
    it(`${name}: 401 wrong_token_type (typ JWT and at+jwt alike)`, async () => {
      await expectRefused(signed({ typ: 'JWT' }, claims(LAX, extra)), 'wrong_token_type');
      await expectRefused(signed({ typ: 'at+jwt' }, claims(LAX, extra)), 'wrong_token_type');
    });
  }
  it('token_use: access and a Keycloak typ: Bearer are access tokens', async () => {
    await expectAccepted(signed({ typ: 'JWT' }, claims(LAX, { token_use: 'access' })));
    await expectAccepted(signed({ typ: 'JWT' }, claims(LAX, { typ: 'Bearer' })));
  });
});

describe('per-issuer token_types: [at+jwt]', () => {
  it('refuses a token without typ and one typed JWT; accepts at+jwt', async () => {
    await expectRefused(signed({}, claims(STRICT)), 'wrong_token_type');
    await expectRefused(signed({ typ: 'JWT' }, claims(STRICT)), 'wrong_token_type');
    await expectAccepted(signed({ typ: 'application/AT+JWT' }, claims(STRICT)));
  });
});

describe('max_lifetime', () => {
  it('default 24 h: an exp 25 h ahead, or 24 h 10 min after iat, is 401; 23 h is fine', async () => {
    await expectRefused(signed({ typ: 'at+jwt' }, claims(LAX, { exp: nowS() + 25 * 3600 })), 'lifetime_too_long');
    await expectRefused(
      signed({ typ: 'at+jwt' }, claims(LAX, { iat: nowS() - 3600, exp: nowS() + 23 * 3600 + 600 })),
      'lifetime_too_long',
    );
    await expectRefused(
      signed({ typ: 'at+jwt' }, claims(LAX, { iat: undefined, exp: nowS() + 10 * 365 * 86_400 })),
      'lifetime_too_long',
    );
    await expectAccepted(signed({ typ: 'at+jwt' }, claims(LAX, { exp: nowS() + 23 * 3600 })));
  });
  it('max_lifetime: 1h: two hours is 401', async () => {
    await expectRefused(signed({ typ: 'at+jwt' }, claims(STRICT, { exp: nowS() + 7200 })), 'lifetime_too_long');
    await expectAccepted(signed({ typ: 'at+jwt' }, claims(STRICT, { exp: nowS() + 3000 })));
  });
});
