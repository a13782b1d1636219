import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SignJWT } from 'jose';
import { createIssuerApp } from '../../src/issuer/create-issuer-app.js';
import { hashRefreshToken } from '../../src/issuer/refresh-tokens.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { peekJwt } from '../../src/auth/peek-jwt.js';
import { generateJwk } from '../../src/issuer/keys.js';
import { LocalTokenAuthenticator } from '../../src/issuer/verify-local-token.js';
import { ClientStateCache } from '../../src/store/client-state-cache.js';
import {
  basic,
  decodeJwt,
  OTHER_SECRET,
  POS,
  POS_SECRET,
  postForm,
  startIssuer,
  type IssuerFixture,
} from './issuer-fixture.js';
import { importJWK } from 'jose';

let f: IssuerFixture;
let tokenUrl: string;
let revokeUrl: string;
beforeAll(async () => {
  f = await startIssuer();
  tokenUrl = `${f.url}/oauth/token`;
  revokeUrl = `${f.url}/oauth/revoke`;
});
afterAll(() => f.close());
beforeEach(() => {
  f.clock.now = Date.now();
});

const OTHER = { client_id: 'other-partner', client_secret: OTHER_SECRET };

async function tokens(client: Record<string, string> = POS) {
  const res = await postForm(tokenUrl, { grant_type: 'client_credentials', ...client });
  return res.body as { access_token: string; refresh_token: string };
}

function verifier() {
  return new LocalTokenAuthenticator(f.deps, { clientStates: new ClientStateCache(f.store, 0) });
}

describe('POST /oauth/revoke (RFC 7009)', () => {
  it('revokes a refresh token together with its family', async () => {
    const { refresh_token } = await tokens();
    const res = await postForm(revokeUrl, { token: refresh_token, token_type_hint: 'refresh_token', ...POS });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(res.headers.get('cache-control')).toBe('no-store');
    const refresh = await postForm(tokenUrl, { grant_type: 'refresh_token', refresh_token, ...POS });
    expect(refresh.body.error).toBe('invalid_grant');
  });

  it('revokes an access token by its jti, whatever the hint says', async () => {
    const { access_token } = await tokens();
    expect(await verifier().authenticate(access_token, peekJwt(access_token))).toBeDefined();
    const res = await postForm(
      revokeUrl,
      { token: access_token, token_type_hint: 'refresh_token' },
      { Authorization: basic('pos-partner', POS_SECRET) },
    );
    expect(res.status).toBe(200);
    expect(await f.store.isTokenRevoked(decodeJwt(access_token).payload.jti as string)).toBe(true);
    await expect(verifier().authenticate(access_token, peekJwt(access_token))).rejects.toMatchObject({
      code: 'invalid_token',
      reason: 'token_revoked',
    });
  });

  it("answers 200 for another client's tokens but revokes nothing (no leak)", async () => {
    const mine = await tokens();
    const res1 = await postForm(revokeUrl, { token: mine.access_token, ...OTHER });
    const res2 = await postForm(revokeUrl, { token: mine.refresh_token, ...OTHER });
    expect([res1.status, res2.status]).toEqual([200, 200]);
    expect(await f.store.isTokenRevoked(decodeJwt(mine.access_token).payload.jti as string)).toBe(false);
    const refresh = await postForm(tokenUrl, {
      grant_type: 'refresh_token',
      refresh_token: mine.refresh_token,
      ...POS,
    });
    expect(refresh.status).toBe(200);
  });

  it('answers 200 for unknown, garbage and foreign tokens (RFC 7009 2.2)', async () => {
    const jwk = await generateJwk('ES256');
    const foreign = await new SignJWT({ client_id: 'pos-partner', jti: 'x' })
      .setProtectedHeader({ alg: 'ES256', kid: jwk.kid, typ: 'at+jwt' })
      .setIssuer('https://idp.example.com/')
      .setExpirationTime('10m')
      .sign(await importJWK(jwk, 'ES256'));
    const forged = await new SignJWT({ client_id: 'pos-partner', jti: 'forged' })
      .setProtectedHeader({ alg: 'ES256', kid: f.deps.keys.signing.kid, typ: 'at+jwt' })
      .setIssuer('http://issuer.test')
      .setAudience('restaurant-api')
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(await importJWK(jwk, 'ES256'));
    for (const token of ['nope', 'a.b.c', foreign, forged, 'x'.repeat(5000)]) {
      const res = await postForm(revokeUrl, { token, ...POS });
      expect(res.status).toBe(200);
    }
    expect(await f.store.isTokenRevoked('forged')).toBe(false);
  });

  it('authenticates the client like the token endpoint', async () => {
    const { refresh_token } = await tokens();
    const none = await postForm(revokeUrl, { token: refresh_token });
    expect(none.status).toBe(401);
    expect(none.body.error).toBe('invalid_client');
    const wrong = await postForm(revokeUrl, { token: refresh_token }, { Authorization: basic('pos-partner', 'wrong') });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toBe('Basic realm="restaurant-api"');
    const both = await postForm(
      revokeUrl,
      { token: refresh_token, ...POS },
      { Authorization: basic('pos-partner', POS_SECRET) },
    );
    expect(both.body.error).toBe('invalid_request');
  });

  it('answers a missing token with invalid_request, and GET with 405', async () => {
    const res = await postForm(revokeUrl, { ...POS });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
    const get = await fetch(revokeUrl);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
  });

  it('a store that cannot record the revocation answers 503 with Retry-After, never 200 (nothing unstored acknowledged)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'scopegate-revoke-'));
    const file = join(dir, 'state.db');
    const store = new SqliteStore(file, { busyTimeoutMs: 50 });
    const app = createServer(createIssuerApp({ ...f.deps, store }));
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(app.address() as AddressInfo).port}/oauth/revoke`;
    const { access_token, refresh_token } = await tokens();
    await store.saveRefreshToken((await f.store.findRefreshToken(hashRefreshToken(refresh_token)))!);
    // another process holds the write lock: reads still work (WAL), writes fail
    const locker = new Database(file);
    locker.exec('BEGIN EXCLUSIVE');
    try {
      for (const token of [access_token, refresh_token]) {
        const res = await postForm(url, { token, ...POS });
        expect(res.status).toBe(503);
        expect(res.body.error).toBe('temporarily_unavailable');
        expect(res.headers.get('retry-after')).toBe('1');
      }
    } finally {
      locker.exec('ROLLBACK');
      locker.close();
      app.closeAllConnections();
      await new Promise<void>((resolve) => app.close(() => resolve()));
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
