import { createHash } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  FIXTURE_YAML,
  OTHER_SECRET,
  POS,
  postForm,
  startIssuer,
  decodeJwt,
  type IssuerFixture,
} from './issuer-fixture.js';

let f: IssuerFixture;
let tokenUrl: string;
beforeAll(async () => {
  f = await startIssuer();
  tokenUrl = `${f.url}/oauth/token`;
});
afterAll(() => f.close());
beforeEach(async () => {
  // a monotonic clock: a test that moved it forward must not make the next one issue tokens "before" a revocation
  f.clock.now = Math.max(Date.now(), f.clock.now + 1000);
  await f.reload(FIXTURE_YAML);
});

async function clientCredentials(extra: Record<string, string> = {}) {
  const res = await postForm(tokenUrl, { grant_type: 'client_credentials', ...POS, ...extra });
  expect(res.status).toBe(200);
  return res.body as { access_token: string; refresh_token: string; scope: string };
}

const refresh = (token: string, extra: Record<string, string> = {}) =>
  postForm(tokenUrl, { grant_type: 'refresh_token', refresh_token: token, ...POS, ...extra });

describe('refresh_token grant', () => {
  it('stores refresh tokens only as their SHA-256', async () => {
    const { refresh_token } = await clientCredentials();
    expect(refresh_token).toMatch(/^[A-Za-z0-9_-]{43,}$/); // >= 256 bits, URL-safe
    const hash = createHash('sha256').update(refresh_token).digest('hex');
    expect(await f.store.findRefreshToken(hash)).toMatchObject({ clientId: 'pos-partner', revoked: false });
    expect(await f.store.findRefreshToken(refresh_token)).toBeUndefined();
  });

  it('rotates: a new access token and a new refresh token in every response', async () => {
    const first = await clientCredentials();
    const res = await refresh(first.refresh_token);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.body).toMatchObject({ token_type: 'Bearer', expires_in: 1800, scope: first.scope });
    expect(res.body.refresh_token).toMatch(/^[A-Za-z0-9_-]{43,}$/);
    expect(res.body.refresh_token).not.toBe(first.refresh_token);
    expect(res.body.access_token).not.toBe(first.access_token);
    const again = await refresh(res.body.refresh_token as string);
    expect(again.status).toBe(200);
  });

  it('revokes the whole family when a used refresh token is presented again', async () => {
    const first = await clientCredentials();
    const second = (await refresh(first.refresh_token)).body.refresh_token as string;
    const replay = await refresh(first.refresh_token);
    expect(replay.status).toBe(400);
    expect(replay.body.error).toBe('invalid_grant');
    // the token the legitimate holder (or the thief) got from the rotation is dead too
    const next = await refresh(second);
    expect(next.status).toBe(400);
    expect(next.body.error).toBe('invalid_grant');
  });

  it('lets only one of two concurrent uses of a refresh token win, and revokes the family', async () => {
    const first = await clientCredentials();
    const [a, b] = await Promise.all([refresh(first.refresh_token), refresh(first.refresh_token)]);
    expect([a.status, b.status].sort()).toEqual([200, 400]);
    const winner = a.status === 200 ? a : b;
    expect((await refresh(winner.body.refresh_token as string)).body.error).toBe('invalid_grant');
  });

  it('narrows the access token by scope; the new refresh token keeps the original scope (RFC 6749 6)', async () => {
    const first = await clientCredentials();
    const narrowed = await refresh(first.refresh_token, { scope: 'orders:read' });
    expect(narrowed.status).toBe(200);
    expect(narrowed.body.scope).toBe('orders:read');
    expect(decodeJwt(narrowed.body.access_token as string).payload.scope).toBe('orders:read');
    const full = await refresh(narrowed.body.refresh_token as string);
    expect(full.body.scope).toBe('menu:read orders:read orders:write');
  });

  it('refuses to widen the scope with invalid_scope, and leaves the refresh token usable', async () => {
    const first = await clientCredentials({ scope: 'menu:read' });
    const wider = await refresh(first.refresh_token, { scope: 'menu:read orders:write' });
    expect(wider.status).toBe(400);
    expect(wider.body.error).toBe('invalid_scope');
    expect((await refresh(first.refresh_token)).status).toBe(200);
  });

  it('keeps the tenant binding; another tenant is invalid_scope', async () => {
    const first = await clientCredentials({ organization_id: 'rest-berlin' });
    const res = await refresh(first.refresh_token);
    expect(decodeJwt(res.body.access_token as string).payload.tenant).toBe('rest-berlin');
    const other = await refresh(res.body.refresh_token as string, { organization_id: 'rest-munich' });
    expect(other.body.error).toBe('invalid_scope');
  });

  it('may bind a tenant on refresh when the original grant had none', async () => {
    const first = await clientCredentials();
    const res = await refresh(first.refresh_token, { organization_id: 'rest-munich' });
    expect(res.status).toBe(200);
    expect(decodeJwt(res.body.access_token as string).payload.tenant).toBe('rest-munich');
  });

  it("answers invalid_grant for an unknown, expired or another client's refresh token", async () => {
    expect((await refresh('not-a-refresh-token')).body.error).toBe('invalid_grant');

    const first = await clientCredentials();
    const theirs = await postForm(tokenUrl, {
      grant_type: 'refresh_token',
      refresh_token: first.refresh_token,
      client_id: 'other-partner',
      client_secret: OTHER_SECRET,
    });
    expect(theirs.status).toBe(400);
    expect(theirs.body.error).toBe('invalid_grant');
    // presenting it as another client neither used it up nor revoked it
    const mine = await refresh(first.refresh_token);
    expect(mine.status).toBe(200);

    f.clock.now += 31 * 24 * 3600_000;
    expect((await refresh(mine.body.refresh_token as string)).body.error).toBe('invalid_grant');
  });

  it('keeps the family absolute lifetime across rotations', async () => {
    const first = await clientCredentials();
    const hash = (t: string) => createHash('sha256').update(t).digest('hex');
    const before = await f.store.findRefreshToken(hash(first.refresh_token));
    f.clock.now += 24 * 3600_000;
    const next = (await refresh(first.refresh_token)).body.refresh_token as string;
    expect((await f.store.findRefreshToken(hash(next)))!.expiresAt).toBe(before!.expiresAt);
  });

  it('answers a missing refresh_token parameter with invalid_request', async () => {
    const res = await postForm(tokenUrl, { grant_type: 'refresh_token', ...POS });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
  });

  it('refuses refresh tokens issued before a client revocation, even after a restore', async () => {
    const first = await clientCredentials();
    f.clock.now += 1000;
    await f.store.revokeClient('pos-partner', f.clock.now);
    expect((await refresh(first.refresh_token)).body.error).toBe('invalid_client');
    await f.store.restoreClient('pos-partner');
    f.clock.now += 1000;
    expect((await refresh(first.refresh_token)).body.error).toBe('invalid_grant');
    const fresh = await clientCredentials();
    expect((await refresh(fresh.refresh_token)).status).toBe(200);
  });

  it('drops scopes taken from the client in the config since the refresh token was issued', async () => {
    const first = await clientCredentials();
    await f.reload(FIXTURE_YAML.replace('scopes: [menu:read, orders:read, orders:write]', 'scopes: [menu:read]'));
    const res = await refresh(first.refresh_token);
    expect(res.status).toBe(200);
    expect(res.body.scope).toBe('menu:read');
  });
});
