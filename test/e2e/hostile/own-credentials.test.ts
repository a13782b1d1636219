/**
 * Issue 11.5, THREATS.md "Whose identity is it": the gateway's own credentials are never disclosed to a third party.
 * A refresh token (new `sgr_` ones and unprefixed ones minted before), an API key, the admin token or a client
 * secret presented as `Authorization: Bearer` is 401 invalid_token without any request to the introspection endpoint,
 * which records what it receives and must have received nothing. A foreign opaque token still goes there.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashApiKey } from '../../../src/auth/secret-hash.js';
import { hashRefreshToken } from '../../../src/issuer/refresh-tokens.js';
import { startIntrospectionServer, type IntrospectionServer } from '../../helpers/introspection-server.js';
import { bearer, expectError, expectNothingForwarded, SECRETS, startHostile, type Hostile } from './harness.js';

const ENV_SECRET = `env-secret-${randomBytes(12).toString('base64url')}`;
const LEGACY_REFRESH = randomBytes(32).toString('base64url');
/** an admin token of the `admin.tokens` list (SPEC.md 10), besides server.admin_token */
const LISTED_ADMIN_TOKEN = randomBytes(24).toString('base64url');
/** an API key of a client created through the admin API: it lives in the store, not in the config */
let storeApiKey = '';

let h: Hostile;
let introspection: IntrospectionServer;

beforeAll(async () => {
  process.env.SCOPEGATE_TEST_OWN_SECRET = ENV_SECRET;
  introspection = await startIntrospectionServer();
  h = await startHostile({
    extraClients: `  - id: env-client
    secret: \${SCOPEGATE_TEST_OWN_SECRET}
    scopes: [menu:read]
`,
    issuerExtra: `admin:
  tokens:
    - id: ops
      hash: "${hashApiKey(LISTED_ADMIN_TOKEN)}"
      role: operator
introspection:
  endpoint: ${introspection.url}
  client_id: gateway
  client_secret: introspection-secret-0123456789
`,
  });
  // a refresh token minted before refresh tokens had a prefix: only its hash is in the store
  const now = Date.now();
  await h.gw.services.store.saveRefreshToken({
    hash: hashRefreshToken(LEGACY_REFRESH),
    familyId: 'legacy-family',
    clientId: 'pos',
    scopes: ['menu:read'],
    issuedAt: now,
    expiresAt: now + 3_600_000,
    revoked: false,
  });
  const admin = (path: string, body: unknown) =>
    fetch(`${h.gw.adminUrl}/admin${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${LISTED_ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }).then(async (res) => {
      expect(res.status).toBe(201);
      return (await res.json()) as Record<string, { id: string; value: string }>;
    });
  const { client } = await admin('/clients', { name: 'Store partner', scopes: ['menu:read'] });
  storeApiKey = (await admin(`/clients/${client!.id}/api-keys`, {})).api_key!.value;
});

afterAll(async () => {
  await h?.close();
  await introspection?.close();
  delete process.env.SCOPEGATE_TEST_OWN_SECRET;
});

describe('own credentials presented as Bearer never reach the introspection endpoint', () => {
  const cases: Record<string, () => string> = {
    'a refresh token from the token endpoint': () => h.posRefresh,
    'an unprefixed refresh token minted before the prefix': () => LEGACY_REFRESH,
    'an API key (scoped)': () => SECRETS.menuKey,
    'an API key (full)': () => SECRETS.fullKey,
    'the admin token': () => SECRETS.adminToken,
    'an admin token of the admin.tokens list': () => LISTED_ADMIN_TOKEN,
    'an API key of a client created through the admin API': () => storeApiKey,
    'a ${ENV} client secret': () => ENV_SECRET,
    // verified at the token endpoint by startHostile: known as ours from then on
    'a client secret stored as a scrypt hash, once verified': () => SECRETS.posSecret,
  };
  for (const [name, value] of Object.entries(cases)) {
    it(`${name}: 401 invalid_token, no outbound call, nothing forwarded`, async () => {
      introspection.tokens.length = 0;
      h.upstream.requests.length = 0;
      const res = await bearer(h, '/api/menu/x', value());
      expectError(res, 401, 'invalid_token');
      expect(res.headers['www-authenticate']).toMatch(/error="invalid_token"/);
      expect(introspection.tokens).toEqual([]);
      expectNothingForwarded(h);
      expect(h.gw.logs.filter((l) => l.msg === 'request').at(-1)?.reason).toBe('own_credential');
    });
  }

  it('new refresh tokens carry the sgr_ prefix, and both kinds still refresh', async () => {
    expect(h.posRefresh).toMatch(/^sgr_[A-Za-z0-9_-]{43}$/);
    for (const token of [h.posRefresh, LEGACY_REFRESH]) {
      const res = await fetch(`${h.gw.url}/oauth/token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'refresh_token',
          refresh_token: token,
          client_id: 'pos',
          client_secret: SECRETS.posSecret,
        }),
      });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { refresh_token: string }).refresh_token).toMatch(/^sgr_/);
    }
  });

  it('a foreign opaque token is still introspected', async () => {
    introspection.tokens.length = 0;
    introspection.answer(() => ({ active: true, client_id: 'x', scope: 'menu:read', exp: Date.now() / 1000 + 60 }));
    const foreign = randomBytes(32).toString('base64url');
    expect((await bearer(h, '/api/menu/x', foreign)).status).toBe(200);
    expect(introspection.tokens).toEqual([foreign]);
  });
});
