/**
 * The built-in authorization server through the full gateway, black-box (SPEC.md 5): a token works on a route,
 * refresh rotation and replay over HTTP, RFC 7009 revocation, the admin API's client revoke/restore, and RFC 9728
 * protected-resource metadata named by every Bearer challenge.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SECRETS, standardConfig } from '../../helpers/fixtures.js';
import { send } from '../../helpers/http.js';
import { startRecordingUpstream, type RecordingUpstream } from '../../helpers/recording-upstream.js';
import { startTestGateway, type TestGateway } from '../../helpers/test-gateway.js';
import { admin, pollUntil, postForm, RESOURCE_METADATA, revocableClients, type ExtraClient } from './harness.js';

const POS = { id: 'pos', secret: SECRETS.posSecret };
const REVOKEE: ExtraClient = {
  id: 'revokee',
  secret: 'revokee-secret-with-entropy-97531',
  apiKey: 'revokee-key-abcdefghijklmnopqrstuvwxyz0123',
};

let upstream: RecordingUpstream;
let gw: TestGateway;

beforeAll(async () => {
  upstream = await startRecordingUpstream();
  gw = await startTestGateway(
    await standardConfig({ upstream: upstream.url, extraClients: await revocableClients([REVOKEE]) }),
  );
});
afterAll(async () => {
  await gw?.close();
  await upstream?.close();
});
beforeEach(() => {
  upstream.requests.length = 0;
});

const bearer = (token: string) => ['Authorization', `Bearer ${token}`];
const menu = (headers: string[]) => send(gw.url, 'GET', '/api/menu/1', headers);

async function clientCredentials(client: { id: string; secret: string }, params: Record<string, string> = {}) {
  const reply = await postForm(gw.url, '/oauth/token', client, { grant_type: 'client_credentials', ...params });
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  return reply.body as { access_token: string; refresh_token?: string; scope: string; expires_in: number };
}

describe('token -> protected route', () => {
  it('a client_credentials token passes a route its scope covers; the upstream sees the identity', async () => {
    const token = await clientCredentials(POS, { scope: 'menu:read' });
    expect(token.scope).toBe('menu:read');
    expect(Number.isInteger(token.expires_in)).toBe(true);
    const res = await menu(bearer(token.access_token));
    expect(res.status).toBe(200);
    expect(upstream.requests).toHaveLength(1);
    expect(upstream.requests[0]!.headers['x-auth-client-id']).toBe('pos');
    expect(upstream.requests[0]!.headers['x-auth-scopes']).toBe('menu:read');
    expect(upstream.requests[0]!.headers['x-auth-method']).toBe('bearer');
    // narrowed to menu:read: an orders route is a 403
    expect((await send(gw.url, 'GET', '/api/orders', bearer(token.access_token))).status).toBe(403);
  });
});

describe('refresh tokens over HTTP', () => {
  it('rotate on use; the new access token works; replaying a used one kills the whole family', async () => {
    const first = await clientCredentials(POS);
    expect(first.refresh_token).toEqual(expect.any(String));

    const second = await postForm(gw.url, '/oauth/token', POS, {
      grant_type: 'refresh_token',
      refresh_token: first.refresh_token!,
    });
    expect(second.status).toBe(200);
    expect(second.contentType).toBe('application/json');
    const rotated = second.body as { access_token: string; refresh_token: string; token_type: string };
    expect(rotated.token_type).toBe('Bearer');
    expect(rotated.refresh_token).toEqual(expect.any(String));
    expect(rotated.refresh_token).not.toBe(first.refresh_token);
    expect((await menu(bearer(rotated.access_token))).status).toBe(200);

    const replay = await postForm(gw.url, '/oauth/token', POS, {
      grant_type: 'refresh_token',
      refresh_token: first.refresh_token!,
    });
    expect(replay.status).toBe(400);
    expect(replay.body.error).toBe('invalid_grant');
    // the replay revoked the family: the rotated token is dead too
    const family = await postForm(gw.url, '/oauth/token', POS, {
      grant_type: 'refresh_token',
      refresh_token: rotated.refresh_token,
    });
    expect(family.status).toBe(400);
    expect(family.body.error).toBe('invalid_grant');
  });

  it('a refresh token is bound to its client', async () => {
    const mine = await clientCredentials(POS);
    const other = await postForm(gw.url, '/oauth/token', REVOKEE, {
      grant_type: 'refresh_token',
      refresh_token: mine.refresh_token!,
    });
    expect(other.status).toBe(400);
    expect(other.body.error).toBe('invalid_grant');
    // and left untouched for its owner
    const own = await postForm(gw.url, '/oauth/token', POS, {
      grant_type: 'refresh_token',
      refresh_token: mine.refresh_token!,
    });
    expect(own.status).toBe(200);
  });
});

describe('POST /oauth/revoke (RFC 7009)', () => {
  it('a revoked access token is refused on a route', async () => {
    const token = await clientCredentials(POS);
    const revoked = await postForm(gw.url, '/oauth/revoke', POS, {
      token: token.access_token,
      token_type_hint: 'access_token',
    });
    expect(revoked.status).toBe(200);
    const res = await menu(bearer(token.access_token));
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toContain('error="invalid_token"');
    expect(upstream.requests).toHaveLength(0);
  });

  // Suspected bug: src/issuer/revocation-endpoint.ts writes the revoked jti to the store but does not drop it from
  // this instance's ClientStateCache (src/store/client-state-cache.ts caches "not revoked" per jti for 250 ms), so a
  // token used within the last 250 ms still passes right after its revocation on the very instance that revoked it.
  // Fix: give the issuer deps the ClientStateCache (start-gateway.ts) and call a new `forgetToken(jti)` (delete from
  // `tokens`) after `store.revokeToken` in revokeAccessToken, as the admin API does with `invalidate(clientId)`.
  it('a token in use is refused at once on the instance that revoked it', async () => {
    const token = await clientCredentials(POS);
    expect((await menu(bearer(token.access_token))).status).toBe(200);
    expect((await postForm(gw.url, '/oauth/revoke', POS, { token: token.access_token })).status).toBe(200);
    expect((await menu(bearer(token.access_token))).status).toBe(401);
  });

  it('a token in use is refused within 1 s of its revocation', async () => {
    const token = await clientCredentials(POS);
    expect((await menu(bearer(token.access_token))).status).toBe(200);
    expect((await postForm(gw.url, '/oauth/revoke', POS, { token: token.access_token })).status).toBe(200);
    const elapsed = await pollUntil(async () => (await menu(bearer(token.access_token))).status === 401, 1000);
    expect(elapsed, 'refused within 1000 ms').toBeDefined();
  });

  it('revoking a refresh token ends its family; another client cannot revoke my token', async () => {
    const token = await clientCredentials(POS);
    // RFC 7009 2.2: answered 200 but left alone when the token belongs to another client
    expect((await postForm(gw.url, '/oauth/revoke', REVOKEE, { token: token.access_token })).status).toBe(200);
    expect((await postForm(gw.url, '/oauth/revoke', REVOKEE, { token: token.refresh_token! })).status).toBe(200);
    expect((await menu(bearer(token.access_token))).status).toBe(200);

    expect((await postForm(gw.url, '/oauth/revoke', POS, { token: token.refresh_token! })).status).toBe(200);
    const refresh = await postForm(gw.url, '/oauth/token', POS, {
      grant_type: 'refresh_token',
      refresh_token: token.refresh_token!,
    });
    expect(refresh.status).toBe(400);
    expect(refresh.body.error).toBe('invalid_grant');
  });
});

describe('admin API: POST /admin/clients/{id}/revoke and /restore', () => {
  it('needs the admin token and a known client', async () => {
    expect((await admin(gw.adminUrl!, '/admin/clients/revokee/revoke', undefined)).status).toBe(401);
    expect((await admin(gw.adminUrl!, '/admin/clients/revokee/revoke', 'wrong-admin-token')).status).toBe(401);
    expect((await admin(gw.adminUrl!, '/admin/clients/nobody/revoke', SECRETS.adminToken)).status).toBe(404);
    // the admin API is not on the public listener
    expect((await admin(gw.url, '/admin/clients/revokee/revoke', SECRETS.adminToken)).status).not.toBe(200);
  });

  // Suspected bug: SPEC.md 5 says every JSON response of the gateway itself has `Content-Type: application/json`
  // with no parameters (the Amadeus SDK parses nothing else), but the admin API answers
  // `application/json; charset=utf-8`: src/admin/admin-app.ts `sendJson` (and its error handler) pass a string to
  // Express's `res.send`, which appends the charset. Fix: `res.status(s).set(headers).end(text)` (or send a Buffer).
  it('admin API JSON responses have Content-Type application/json exactly', async () => {
    const ok = await admin(gw.adminUrl!, '/admin/clients/pos/restore', SECRETS.adminToken);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toBe('application/json');
    const refused = await admin(gw.adminUrl!, '/admin/clients/pos/restore', 'wrong-admin-token');
    expect(refused.status).toBe(401);
    expect(refused.headers.get('content-type')).toBe('application/json');
  });

  it('a token minted between a restore and a second revocation within one second dies with the second revocation', async () => {
    // iat has second precision: revoke, restore, mint, revoke again, restore, all quickly, must not revive the token
    // minted in between (it once was dated to the next second, past the second revocation)
    for (let round = 0; round < 3; round++) {
      expect((await admin(gw.adminUrl!, `/admin/clients/${REVOKEE.id}/revoke`, SECRETS.adminToken)).status).toBe(200);
      expect((await admin(gw.adminUrl!, `/admin/clients/${REVOKEE.id}/restore`, SECRETS.adminToken)).status).toBe(200);
      const between = await clientCredentials(REVOKEE);
      expect((await menu(bearer(between.access_token))).status).toBe(200);
      expect((await admin(gw.adminUrl!, `/admin/clients/${REVOKEE.id}/revoke`, SECRETS.adminToken)).status).toBe(200);
      expect((await admin(gw.adminUrl!, `/admin/clients/${REVOKEE.id}/restore`, SECRETS.adminToken)).status).toBe(200);
      expect((await menu(bearer(between.access_token))).status).toBe(401);
    }
  });

  it('revoke kills tokens, refresh tokens, API keys and the secret; restore brings new tokens, old ones stay dead', async () => {
    const before = await clientCredentials(REVOKEE);
    const apiKey = ['X-Api-Key', REVOKEE.apiKey];
    const secret = ['X-Client-Id', REVOKEE.id, 'X-Client-Secret', REVOKEE.secret];
    for (const headers of [bearer(before.access_token), apiKey, secret]) expect((await menu(headers)).status).toBe(200);

    const revoke = await admin(gw.adminUrl!, `/admin/clients/${REVOKEE.id}/revoke`, SECRETS.adminToken);
    expect(revoke.status).toBe(200);
    expect(await revoke.json()).toMatchObject({ client_id: REVOKEE.id, revoked_at: expect.any(String) });

    upstream.requests.length = 0;
    for (const headers of [bearer(before.access_token), apiKey, secret]) {
      const res = await menu(headers);
      expect(res.status, headers[0]).toBe(401);
      expect(res.headers['www-authenticate'], headers[0]).toContain(`resource_metadata="${RESOURCE_METADATA}"`);
    }
    const refresh = await postForm(gw.url, '/oauth/token', REVOKEE, {
      grant_type: 'refresh_token',
      refresh_token: before.refresh_token!,
    });
    expect(refresh.status).toBe(401); // the client itself cannot authenticate any more
    expect(refresh.body.error).toBe('invalid_client');
    const fresh = await postForm(gw.url, '/oauth/token', REVOKEE, { grant_type: 'client_credentials' });
    expect(fresh.status).toBe(401);
    expect(fresh.body.error).toBe('invalid_client');
    expect(upstream.requests).toHaveLength(0);

    const restore = await admin(gw.adminUrl!, `/admin/clients/${REVOKEE.id}/restore`, SECRETS.adminToken);
    expect(restore.status).toBe(200);
    const after = await clientCredentials(REVOKEE);
    expect((await menu(bearer(after.access_token))).status).toBe(200);
    expect((await menu(apiKey)).status).toBe(200);
    expect((await menu(secret)).status).toBe(200);
    // issued before the revocation: dead for good
    expect((await menu(bearer(before.access_token))).status).toBe(401);
    const oldRefresh = await postForm(gw.url, '/oauth/token', REVOKEE, {
      grant_type: 'refresh_token',
      refresh_token: before.refresh_token!,
    });
    expect(oldRefresh.status).toBe(400);
    expect(oldRefresh.body.error).toBe('invalid_grant');
    const newRefresh = await postForm(gw.url, '/oauth/token', REVOKEE, {
      grant_type: 'refresh_token',
      refresh_token: after.refresh_token!,
    });
    expect(newRefresh.status).toBe(200);
  });
});

describe('RFC 9728 protected-resource metadata', () => {
  it('is served at /.well-known/oauth-protected-resource', async () => {
    const res = await send(gw.url, 'GET', '/.well-known/oauth-protected-resource');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    const doc = res.json();
    expect(doc.resource).toBe('http://gateway.test');
    expect(doc.authorization_servers).toEqual(['http://gateway.test']);
    expect(doc.bearer_methods_supported).toEqual(['header']);
    expect(doc.scopes_supported).toEqual(expect.arrayContaining(['menu:read', 'orders:read', 'orders:write']));
  });

  it('every Bearer challenge names it in resource_metadata', async () => {
    const token = (await clientCredentials(POS, { scope: 'menu:read' })).access_token;
    const cases: [string, string, string, string[]][] = [
      ['no credentials', 'GET', '/api/menu', []],
      ['malformed token', 'GET', '/api/menu', bearer('not-a-jwt')],
      ['forged token', 'GET', '/api/menu', bearer(`${token.slice(0, -4)}AAAA`)],
      ['insufficient scope', 'GET', '/api/orders', bearer(token)],
      ['insufficient scope (write)', 'POST', '/api/menu', bearer(token)],
      [
        'wrong client secret',
        'GET',
        '/api/menu',
        ['X-Client-Id', 'pos', 'X-Client-Secret', 'wrong-secret-000000000000'],
      ],
      ['unknown API key', 'GET', '/api/menu', ['X-Api-Key', 'unknown-key-abcdefghijklmnopqrstuvwxyz012']],
      ['Bearer on an API-key-only route', 'GET', '/api/keys-only/a', bearer(token)],
    ];
    for (const [name, method, path, headers] of cases) {
      const res = await send(gw.url, method, path, headers);
      expect([401, 403], name).toContain(res.status);
      const challenge = res.headers['www-authenticate'] as string;
      expect(challenge, name).toMatch(/^Bearer /);
      expect(challenge, name).toContain(`resource_metadata="${RESOURCE_METADATA}"`);
      expect(res.headers['content-type'], name).toBe('application/json');
    }
  });
});
