/**
 * Issue 11.1, THREATS.md "Whose identity is it": an identity is the pair (issuer, client id). A trusted issuer's or
 * the introspection endpoint's client whose id equals a local client's id is another client: the upstream tells them
 * apart by X-Auth-Issuer, the local client's rate limit, revocation, scopes and tenants do not apply to it, and its
 * requests never drain the local client's bucket. Logs carry the issuer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { revokeClientAccess } from '../../../src/admin/client-access.js';
import { hashApiKey } from '../../../src/auth/secret-hash.js';
import { startIntrospectionServer, type IntrospectionServer } from '../../helpers/introspection-server.js';
import { jwksOf, makeKey, startJwksServer, type JwksServer, type TestKey } from '../../helpers/jwks-server.js';
import { bearer, expectError, ISSUER, SECRETS, send, startHostile, type Hostile } from './harness.js';

const IDP = 'https://idp.test/';
const SHARED_KEY = 'shared-key-abcdefghijklmnopqrstuvwxyz0123';

let h: Hostile;
let jwks: JwksServer;
let idpKey: TestKey;
let introspection: IntrospectionServer;

const foreignToken = (claims: Record<string, unknown>) => {
  const now = Math.floor(Date.now() / 1000);
  return idpKey.sign({ iss: IDP, aud: 'restaurant-api', iat: now, exp: now + 600, ...claims });
};
const lastUpstream = () => h.upstream.requests.at(-1)!;

beforeAll(async () => {
  idpKey = await makeKey('ES256');
  jwks = await startJwksServer(jwksOf(idpKey));
  introspection = await startIntrospectionServer();
  h = await startHostile({
    extraClients: `  - id: shared
    scopes: [menu:read]
    tenants: [rest-berlin]
    rate_limit: 3/min
    api_keys:
      - hash: "${hashApiKey(SHARED_KEY)}"
`,
    issuerExtra: `trusted_issuers:
  - issuer: ${IDP}
    jwks_uri: ${jwks.url}
    audience: restaurant-api
    algorithms: [ES256]
introspection:
  endpoint: ${introspection.url}
  client_id: gateway
  client_secret: introspection-secret-0123456789
  cache_ttl: 1s
`,
  });
});

afterAll(async () => {
  await h?.close();
  await jwks?.close();
  await introspection?.close();
});

describe('X-Auth-Issuer names who vouches for the client id', () => {
  it('a trusted issuer: its iss; a client-sent X-Auth-Issuer (any spelling) is dropped', async () => {
    const token = await foreignToken({ client_id: 'shared', scope: 'menu:read' });
    const res = await bearer(h, '/api/menu/x', token, ['X-Auth-Issuer', ISSUER, 'X_Auth_Issuer', ISSUER]);
    expect(res.status).toBe(200);
    const got = lastUpstream();
    expect(got.headers['x-auth-client-id']).toBe('shared');
    expect(got.headers['x-auth-issuer']).toBe(IDP);
    expect(got.rawHeaders.filter((n) => /^x[-_]auth[-_]issuer$/i.test(n))).toEqual(['x-auth-issuer']);
  });

  it("the gateway's own clients: the local issuer's URL for a token, an API key and a client secret", async () => {
    expect((await bearer(h, '/api/menu/x', h.posToken)).status).toBe(200);
    expect(lastUpstream().headers['x-auth-issuer']).toBe(ISSUER);
    expect((await send(h.gw.url, 'GET', '/api/menu/x', ['X-Api-Key', SECRETS.menuKey])).status).toBe(200);
    expect(lastUpstream().headers['x-auth-issuer']).toBe(ISSUER);
    const secret = ['X-Client-Id', 'pos', 'X-Client-Secret', SECRETS.posSecret];
    expect((await send(h.gw.url, 'GET', '/api/menu/x', secret)).status).toBe(200);
    expect(lastUpstream().headers['x-auth-issuer']).toBe(ISSUER);
  });

  it('introspection: `introspection`, even when the answer claims the local issuer as iss', async () => {
    introspection.answer(() => ({
      active: true,
      client_id: 'shared',
      iss: ISSUER,
      scope: 'menu:read',
      exp: Math.floor(Date.now() / 1000) + 60,
    }));
    const res = await bearer(h, '/api/menu/x', 'opaque-token-0123456789abcdef');
    expect(res.status).toBe(200);
    expect(lastUpstream().headers['x-auth-client-id']).toBe('shared');
    expect(lastUpstream().headers['x-auth-issuer']).toBe('introspection');
  });

  it('the request log line carries the issuer next to the client id', async () => {
    const token = await foreignToken({ client_id: 'shared', scope: 'menu:read', jti: 'log-line' });
    expect((await bearer(h, '/api/menu/logged', token)).status).toBe(200);
    const line = h.gw.logs.find((l) => l.msg === 'request' && l.path === '/menu/logged');
    expect(line).toMatchObject({ client_id: 'shared', issuer: IDP, decision: 'allow' });
  });
});

describe("a foreign client with a local client's id is another client", () => {
  it("is neither capped by the local client's scopes and tenants nor limited by its rate_limit", async () => {
    // local `shared` has only menu:read, tenant rest-berlin and 3/min; the foreign `shared` has its own grant
    for (let i = 0; i < 6; i++) {
      const token = await foreignToken({
        client_id: 'shared',
        scope: 'orders:read',
        tenant: 'rest-paris',
        jti: `f${i}`,
      });
      const res = await bearer(h, '/api/orders/1', token);
      expect(res.status, `foreign request ${i}`).toBe(200);
      expect(lastUpstream().headers['x-auth-scopes']).toBe('orders:read');
    }
    const paris = await foreignToken({ client_id: 'shared', scope: 'reservations:read', tenant: 'rest-paris' });
    expect((await bearer(h, '/api/organizations/rest-paris/reservations/1', paris)).status).toBe(200);
    expect(lastUpstream().headers['x-auth-tenant']).toBe('rest-paris');
  });

  it("never drains the local client's bucket (introspected ones neither)", async () => {
    introspection.answer(() => ({
      active: true,
      client_id: 'shared',
      scope: 'menu:read',
      exp: Math.floor(Date.now() / 1000) + 60,
    }));
    for (let i = 0; i < 4; i++) {
      expect((await bearer(h, '/api/menu/x', `opaque-${i}-0123456789abcdef`)).status, `introspected ${i}`).toBe(200);
    }
    // the local `shared` still has its whole burst of 3, then 429
    const key = ['X-Api-Key', SHARED_KEY];
    for (let i = 0; i < 3; i++)
      expect((await send(h.gw.url, 'GET', '/api/menu/x', key)).status, `local ${i}`).toBe(200);
    expect((await send(h.gw.url, 'GET', '/api/menu/x', key)).status).toBe(429);
    // and the foreign `shared` is not limited by the local one being out of tokens
    const token = await foreignToken({ client_id: 'shared', scope: 'menu:read', jti: 'after-429' });
    expect((await bearer(h, '/api/menu/x', token)).status).toBe(200);
    expect(lastUpstream().headers['x-auth-issuer']).toBe(IDP);
  });

  it('revoking the local client stops its credentials, not the foreign client of the same id', async () => {
    await revokeClientAccess(h.gw.services, 'shared');
    expectError(await send(h.gw.url, 'GET', '/api/menu/x', ['X-Api-Key', SHARED_KEY]), 401, 'invalid_token');
    const token = await foreignToken({ client_id: 'shared', scope: 'menu:read', jti: 'after-revoke' });
    const res = await bearer(h, '/api/menu/x', token);
    expect(res.status).toBe(200);
    expect(lastUpstream().headers['x-auth-issuer']).toBe(IDP);
  });
});
