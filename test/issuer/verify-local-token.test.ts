import { createHash } from 'node:crypto';
import { exportSPKI, importJWK, SignJWT, type CryptoKey, type JWTPayload } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { peekJwt } from '../../src/auth/peek-jwt.js';
import { OAuthError } from '../../src/errors/oauth-error.js';
import { generateJwk } from '../../src/issuer/keys.js';
import { mintAccessToken } from '../../src/issuer/mint-access-token.js';
import { LocalTokenAuthenticator } from '../../src/issuer/verify-local-token.js';
import { ClientStateCache } from '../../src/store/client-state-cache.js';
import { FIXTURE_YAML, startIssuer, type IssuerFixture } from './issuer-fixture.js';

let f: IssuerFixture;
let auth: LocalTokenAuthenticator;
beforeAll(async () => {
  f = await startIssuer();
});
afterAll(() => f.close());
beforeEach(async () => {
  f.clock.now = Math.max(Date.now(), f.clock.now + 1000);
  await f.reload(FIXTURE_YAML);
  // no client-state cache here, so a revocation is seen at once; the 1 s bound has its own test
  auth = new LocalTokenAuthenticator(f.deps, { clientStates: new ClientStateCache(f.store, 0) });
});

const mint = (clientId = 'pos-partner', scopes = ['menu:read', 'orders:read'], tenant?: string) =>
  mintAccessToken(f.deps, { clientId, scopes, tenant });

const verify = (token: string, a = auth) => a.authenticate(token, peekJwt(token));

async function rejects(token: string, reason: string, a = auth) {
  const err = await verify(token, a).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(OAuthError);
  expect({
    status: (err as OAuthError).status,
    code: (err as OAuthError).code,
    reason: (err as OAuthError).reason,
  }).toEqual({
    status: 401,
    code: 'invalid_token',
    reason,
  });
}

const nowS = () => Math.floor(f.clock.now / 1000);

/** A token signed with the local key, with claims and header chosen by the test. */
async function craft(claims: JWTPayload, header: Record<string, unknown> = {}, key?: CryptoKey | Uint8Array) {
  const { signing } = f.deps.keys;
  return new SignJWT({
    iss: 'http://issuer.test',
    sub: 'pos-partner',
    aud: 'restaurant-api',
    iat: nowS(),
    exp: nowS() + 600,
    jti: `j-${Math.random()}`,
    client_id: 'pos-partner',
    scope: 'menu:read',
    ...claims,
  })
    .setProtectedHeader({ alg: signing.alg, kid: signing.kid, typ: 'at+jwt', ...header })
    .sign(key ?? signing.privateKey);
}

describe('LocalTokenAuthenticator', () => {
  it('accepts its own tokens and returns the identity', async () => {
    const { accessToken, jti } = await mint('pos-partner', ['menu:read', 'orders:read'], 'rest-berlin');
    const identity = await verify(accessToken);
    expect(identity).toMatchObject({
      clientId: 'pos-partner',
      scopes: ['menu:read', 'orders:read'],
      tenant: 'rest-berlin',
      method: 'bearer',
      // SPEC.md 6: the gateway's own clients carry the local issuer's URL (X-Auth-Issuer)
      issuer: 'http://issuer.test',
      subject: 'pos-partner',
      tokenId: jti,
    });
  });

  it('says "not mine" for tokens of other issuers and for non-JWTs (a refresh token, a JWE)', async () => {
    const other = await craft({ iss: 'https://idp.example.com/' });
    expect(await verify(other)).toBeUndefined();
    expect(await verify(await craft({ iss: 'http://issuer.test/' }))).toBeUndefined(); // iss must be exact
    expect(await verify('x'.repeat(43))).toBeUndefined();
    expect(await verify('a.b.c.d.e')).toBeUndefined();
  });

  it('accepts an expired token within the 30 s leeway and refuses it after', async () => {
    const { accessToken } = await mint();
    const exp = (peekJwt(accessToken)!.payload.exp as number) * 1000;
    f.clock.now = exp + 20_000;
    expect(await verify(accessToken)).toBeDefined();
    f.clock.now = exp + 31_000;
    await rejects(accessToken, 'token_expired');
  });

  it('refuses an iat in the future beyond the leeway, and a not-yet-valid nbf', async () => {
    await rejects(await craft({ iat: nowS() + 120, exp: nowS() + 600 }), 'iat_in_future');
    expect(await verify(await craft({ iat: nowS() + 10 }))).toBeDefined();
    await rejects(await craft({ nbf: nowS() + 120 }), 'token_not_yet_valid');
  });

  it('refuses a token that lives longer than access_token_ttl', async () => {
    await rejects(await craft({ iat: nowS(), exp: nowS() + 2 * 3600 }), 'lifetime_too_long');
    expect(await verify(await craft({ iat: nowS(), exp: nowS() + 1800 }))).toBeDefined();
  });

  it('refuses the wrong audience', async () => {
    await rejects(await craft({ aud: 'another-api' }), 'wrong_audience');
    expect(await verify(await craft({ aud: ['another-api', 'restaurant-api'] }))).toBeDefined();
  });

  it('refuses a typ other than at+jwt (e.g. an ID token or a plain JWT)', async () => {
    await rejects(await craft({}, { typ: 'JWT' }), 'wrong_type');
    const { signing } = f.deps.keys;
    const noTyp = await new SignJWT({ client_id: 'pos-partner', jti: 'x', scope: 'menu:read' })
      .setProtectedHeader({ alg: signing.alg, kid: signing.kid })
      .setIssuer('http://issuer.test')
      .setAudience('restaurant-api')
      .setIssuedAt(nowS())
      .setExpirationTime(nowS() + 60)
      .sign(signing.privateKey);
    await rejects(noTyp, 'wrong_type');
  });

  it('refuses alg confusion: HS256 keyed with the public key', async () => {
    const { kid } = f.deps.keys.signing;
    const publicKey = f.deps.keys.verify.get(kid)!.key as CryptoKey;
    const pem = await exportSPKI(publicKey);
    const jwkJson = JSON.stringify(f.deps.keys.jwks.keys[0]);
    for (const secret of [pem, jwkJson]) {
      await rejects(await craft({}, { alg: 'HS256' }, new TextEncoder().encode(secret)), 'algorithm_not_allowed');
    }
  });

  it('refuses alg none (nobody owns it; forced onto this verifier it fails)', async () => {
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const payload = {
      iss: 'http://issuer.test',
      aud: 'restaurant-api',
      client_id: 'pos-partner',
      jti: 'n',
      iat: nowS(),
      exp: nowS() + 60,
    };
    const none = `${b64({ alg: 'none', typ: 'at+jwt', kid: f.deps.keys.signing.kid })}.${b64(payload)}.`;
    expect(peekJwt(none)).toBeUndefined();
    const forced = auth.authenticate(none, {
      header: { alg: 'none', kid: f.deps.keys.signing.kid },
      payload,
      canonical: true,
    });
    await expect(forced).rejects.toBeInstanceOf(OAuthError);
  });

  it('refuses an unknown kid, a foreign key under our kid, and a tampered payload', async () => {
    const jwk = await generateJwk('ES256');
    const foreignKey = await importJWK(jwk, 'ES256');
    await rejects(await craft({}, { kid: jwk.kid }, foreignKey), 'unknown_kid');
    await rejects(await craft({}, {}, foreignKey), 'bad_signature');
    const { accessToken } = await mint('pos-partner', ['menu:read']);
    const [h, p, s] = accessToken.split('.');
    const widened = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(p!, 'base64url').toString()), scope: 'menu:read orders:write' }),
    ).toString('base64url');
    await rejects(`${h}.${widened}.${s}`, 'bad_signature');
  });

  it('refuses tokens without client_id or jti', async () => {
    await rejects(await craft({ client_id: undefined }), 'invalid_claims');
    await rejects(await craft({ jti: undefined }), 'invalid_claims');
  });

  it('refuses a revoked jti, also after the signature was cached', async () => {
    const { accessToken, jti, expiresAt } = await mint();
    expect(await verify(accessToken)).toBeDefined();
    await f.store.revokeToken(jti, expiresAt);
    await rejects(accessToken, 'token_revoked');
  });

  for (const offset of [0, 1, 500, 999]) {
    it(`refuses tokens of a revoked client; after a restore old tokens stay invalid and new ones work (+${offset} ms)`, async () => {
      f.clock.now = Math.ceil(f.clock.now / 1000) * 1000 + offset;
      const { accessToken: old } = await mint();
      expect(await verify(old)).toBeDefined();
      await f.store.revokeClient('pos-partner', f.clock.now);
      await rejects(old, 'client_revoked');
      await f.store.restoreClient('pos-partner');
      await rejects(old, 'token_revoked');
      // minted in the same millisecond as the revocation, right after the restore: valid
      const { accessToken: fresh } = await mint();
      expect(await verify(fresh)).toBeDefined();
    });
  }

  it('applies a revocation within 1 s with the default client-state cache', async () => {
    const cached = new LocalTokenAuthenticator(f.deps);
    const { accessToken } = await mint('other-partner', ['menu:read']);
    expect(await verify(accessToken, cached)).toBeDefined();
    await f.store.revokeClient('other-partner', f.clock.now);
    await new Promise((r) => setTimeout(r, 300));
    await rejects(accessToken, 'client_revoked', cached);
    await f.store.restoreClient('other-partner');
  });

  it('refuses tokens of a client past expires_at or no longer in the config', async () => {
    await rejects(await craft({ client_id: 'expired-partner', sub: 'expired-partner' }), 'client_expired');
    const { accessToken } = await mint('other-partner', ['menu:read']);
    await f.reload(FIXTURE_YAML.replace(/ {2}- id: other-partner\n( {4}.*\n)+/, ''));
    await rejects(accessToken, 'unknown_client');
  });

  it('grants only scopes the client still holds, and refuses a tenant it may no longer act for', async () => {
    const { accessToken } = await mint('pos-partner', ['menu:read', 'orders:write'], 'rest-munich');
    await f.reload(
      FIXTURE_YAML.replace('scopes: [menu:read, orders:read, orders:write]', 'scopes: [menu:read, orders:read]'),
    );
    expect((await verify(accessToken))!.scopes).toEqual(['menu:read']);
    await f.reload(FIXTURE_YAML.replace('tenants: [rest-berlin, rest-munich]', 'tenants: [rest-berlin]'));
    await rejects(accessToken, 'tenant_removed');
  });

  it('grants nothing for a scope claim of the wrong type', async () => {
    expect((await verify(await craft({ scope: ['menu:read'] })))!.scopes).toEqual([]);
    expect((await verify(await craft({ scope: 42 })))!.scopes).toEqual([]);
  });

  it('ignores a non-string tenant claim', async () => {
    expect((await verify(await craft({ tenant: ['rest-berlin'] })))!.tenant).toBeUndefined();
  });

  it('fails closed with 503 when the store cannot be read', async () => {
    const { accessToken } = await mint();
    const broken = new LocalTokenAuthenticator({
      ...f.deps,
      store: {
        ...f.store,
        isTokenRevoked: () => Promise.reject(new Error('down')),
        getClientState: () => Promise.reject(new Error('down')),
      } as never,
    });
    await expect(verify(accessToken, broken)).rejects.toMatchObject({ status: 503 });
  });

  it('rejects garbage fast with 401, never a 500', async () => {
    const header = Buffer.from(JSON.stringify({ alg: 'ES256', kid: f.deps.keys.signing.kid, typ: 'at+jwt' })).toString(
      'base64url',
    );
    const payload = Buffer.from(JSON.stringify({ iss: 'http://issuer.test' })).toString('base64url');
    for (const sig of ['x', 'A'.repeat(10_000), '!!!']) {
      const token = `${header}.${payload}.${sig}`;
      const peek = peekJwt(token) ?? {
        header: { kid: f.deps.keys.signing.kid, alg: 'ES256' },
        payload: { iss: 'http://issuer.test' },
        canonical: true,
      };
      const err = await auth.authenticate(token, peek).catch((e: unknown) => e);
      expect((err as OAuthError).status).toBe(401);
    }
    expect(createHash('sha256').update('x').digest('hex')).toHaveLength(64);
  });
});

describe('mintAccessToken', () => {
  it('cuts the lifetime at the client expires_at', async () => {
    const soon = new Date(f.clock.now + 10 * 60_000).toISOString();
    await f.reload(
      FIXTURE_YAML.replace(
        '    refresh_tokens: true\n  - id: odd',
        `    refresh_tokens: true\n    expires_at: ${soon}\n  - id: odd`,
      ),
    );
    const { expiresIn } = await mint();
    expect(expiresIn).toBeGreaterThan(9 * 60);
    expect(expiresIn).toBeLessThanOrEqual(10 * 60);
  });
});

// Need the full gateway (test/e2e, once the server exists):
describe('with the full gateway', () => {
  it.todo('e2e: `scopegate revoke` on one instance makes the token fail on another sharing the store within 1 s');
  it.todo('e2e: a local token on a route with auth: [api_key] is refused; on a tenant route only its tenant passes');
});
