import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JWTPayload } from 'jose';
import type { JwtPeek } from '../../src/auth/bearer-authenticator.js';
import { peekJwt } from '../../src/auth/peek-jwt.js';
import { TrustedIssuerAuthenticator } from '../../src/auth/trusted-issuer-authenticator.js';
import { configSchema, type TrustedIssuerConfig } from '../../src/config/schema.js';
import { OAuthError } from '../../src/errors/oauth-error.js';
import {
  craftJws,
  hmacWithPublicKey,
  jwksOf,
  makeKey,
  signerOf,
  startJwksServer,
  type JwksServer,
  type TestKey,
} from '../helpers/jwks-server.js';

const ISS_A = 'https://idp-a.example/';
const ISS_B = 'https://idp-b.example/';
const AUD = 'restaurant-api';

let serverA: JwksServer;
let serverB: JwksServer;
let keyA: TestKey;
let keyB: TestKey;
let t: number;
let auth: TrustedIssuerAuthenticator;

const issuers = (overrides: Partial<Record<string, unknown>> = {}): TrustedIssuerConfig[] =>
  configSchema.parse({
    trusted_issuers: [
      { issuer: ISS_A, jwks_uri: serverA.url, audience: AUD, algorithms: ['ES256', 'RS256'], ...overrides },
      { issuer: ISS_B, jwks_uri: serverB.url, audience: AUD, algorithms: ['ES256'] },
    ],
  }).trusted_issuers;

const make = (overrides: Partial<Record<string, unknown>> = {}) =>
  (auth = new TrustedIssuerAuthenticator(issuers(overrides), { now: () => t }));

const nowS = () => Math.floor(t / 1000);
const claims = (extra: JWTPayload = {}): JWTPayload => ({
  iss: ISS_A,
  aud: AUD,
  sub: 'svc-user',
  client_id: 'pos-partner',
  scope: 'menu:read orders:write',
  iat: nowS(),
  exp: nowS() + 300,
  jti: 'tok-1',
  ...extra,
});

const run = (token: string, peek: JwtPeek | undefined = peekJwt(token)) => auth.authenticate(token, peek);

async function rejection(token: string, peek?: JwtPeek): Promise<OAuthError> {
  const err: unknown = await run(token, peek ?? peekJwt(token)).then(
    (identity) => new Error(`granted: ${JSON.stringify(identity)}`),
    (e: unknown) => e,
  );
  if (!(err instanceof OAuthError)) throw err;
  return err;
}

const expect401 = async (token: string, reason: string, peek?: JwtPeek) => {
  const err = await rejection(token, peek);
  expect({ status: err.status, code: err.code, reason: err.reason }).toEqual({
    status: 401,
    code: 'invalid_token',
    reason,
  });
};

beforeEach(async () => {
  [keyA, keyB] = await Promise.all([makeKey('ES256'), makeKey('ES256')]);
  [serverA, serverB] = await Promise.all([startJwksServer(jwksOf(keyA)), startJwksServer(jwksOf(keyB))]);
  t = Date.UTC(2026, 0, 1);
  make();
});

afterEach(async () => {
  auth.close();
  await Promise.all([serverA.close(), serverB.close()]);
});

describe('TrustedIssuerAuthenticator ownership', () => {
  it('says "not mine" without a peek, or for an issuer it does not trust', async () => {
    const token = await keyA.sign(claims());
    expect(await auth.authenticate(token, undefined)).toBeUndefined();
    expect(await run(await keyA.sign(claims({ iss: 'https://other.example/' })))).toBeUndefined();
    expect(await run(await keyA.sign(claims({ iss: ['x'] as unknown as string })))).toBeUndefined();
    expect(serverA.requests).toBe(0);
  });

  it('refuses a JWE (five parts) even when handed a peek', async () => {
    const jwe = 'eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ.a.b.c.d';
    await expect401(jwe, 'malformed_token', { header: { alg: 'RSA-OAEP' }, payload: { iss: ISS_A }, canonical: true });
  });
});

describe('TrustedIssuerAuthenticator accepts', () => {
  it('a good token, with its identity', async () => {
    const identity = await run(await keyA.sign(claims({ tenant: 'rest-berlin' })));
    expect(identity).toEqual({
      clientId: 'pos-partner',
      scopes: ['menu:read', 'orders:write'],
      tenant: 'rest-berlin',
      method: 'bearer',
      issuer: ISS_A,
      subject: 'svc-user',
      tokenId: 'tok-1',
      issuedAt: nowS() * 1000,
      expiresAt: (nowS() + 300) * 1000,
    });
  });

  it('client id from client_id, then azp, then sub, or a configured claim', async () => {
    expect((await run(await keyA.sign(claims({ client_id: undefined, azp: 'kc-client' }))))?.clientId).toBe(
      'kc-client',
    );
    expect((await run(await keyA.sign(claims({ client_id: undefined }))))?.clientId).toBe('svc-user');
    make({ client_id_claim: 'appid' });
    expect((await run(await keyA.sign(claims({ appid: 'entra-app' }))))?.clientId).toBe('entra-app');
    await expect401(await keyA.sign(claims({ appid: 42 })), 'missing_client_id');
    make();
    await expect401(await keyA.sign(claims({ client_id: undefined, sub: undefined })), 'missing_client_id');
  });

  it('an audience out of a list, and a token with several audiences', async () => {
    make({ audience: ['api://restaurant', AUD] });
    expect(await run(await keyA.sign(claims({ aud: 'api://restaurant' })))).toBeDefined();
    expect(await run(await keyA.sign(claims({ aud: ['other', AUD] })))).toBeDefined();
  });

  it('exp and nbf within the 30 s leeway, and iat up to 30 s ahead', async () => {
    expect(await run(await keyA.sign(claims({ exp: nowS() - 20 })))).toBeDefined();
    expect(await run(await keyA.sign(claims({ nbf: nowS() + 20 })))).toBeDefined();
    expect(await run(await keyA.sign(claims({ iat: nowS() + 20 })))).toBeDefined();
  });

  it('a token without kid when one key matches', async () => {
    expect(await run(await keyA.sign(claims(), { kid: undefined }))).toBeDefined();
  });

  it('an RS256 token when the issuer allows RS256', async () => {
    const rsa = await makeKey('RS256');
    serverA.setKeys(jwksOf(keyA, rsa));
    expect(await run(await rsa.sign(claims()))).toBeDefined();
  });
});

describe('TrustedIssuerAuthenticator scopes', () => {
  const scopesOf = async (extra: JWTPayload) =>
    (await run(await keyA.sign(claims({ scope: undefined, ...extra }))))?.scopes;

  it('grant nothing from a scope claim of the wrong type', async () => {
    expect(await scopesOf({ scope: 7 as unknown as string })).toEqual([]);
    expect(await scopesOf({ scope: { admin: true } as unknown as string })).toEqual([]);
    expect(await scopesOf({ scope: ['menu:read'] as unknown as string })).toEqual([]);
    expect(await scopesOf({ scope: ['menu:read'] as unknown as string, scp: 'menu:read' })).toEqual([]);
  });

  it('read scp as a string or an array', async () => {
    expect(await scopesOf({ scp: ['menu:read', 'orders:read'] })).toEqual(['menu:read', 'orders:read']);
    expect(await scopesOf({ scp: 'menu:read orders:read' })).toEqual(['menu:read', 'orders:read']);
    expect(await scopesOf({ scp: ['menu:read', 1] })).toEqual([]);
  });

  it('read a configured scope_claim and nothing else', async () => {
    make({ scope_claim: 'permissions' });
    expect(await scopesOf({ permissions: ['menu:read', 'orders:write'], scp: 'admin' })).toEqual([
      'menu:read',
      'orders:write',
    ]);
    expect(await scopesOf({ scope: 'admin' })).toEqual([]);
  });

  it('ignore a __proto__ member', async () => {
    const raw = `{"iss":"${ISS_A}","aud":"${AUD}","client_id":"c","exp":${nowS() + 60},"__proto__":{"scope":"admin"}}`;
    const token = craftJws({ alg: 'ES256', kid: keyA.kid }, raw, signerOf(keyA));
    expect((await run(token))?.scopes).toEqual([]);
  });

  it('compare case-sensitively and split on single spaces only', async () => {
    expect(await scopesOf({ scope: 'Menu:Read  orders:write\tx' })).toEqual(['Menu:Read']);
  });
});

describe('TrustedIssuerAuthenticator refuses', () => {
  it('alg none', async () => {
    const none = craftJws({ alg: 'none', kid: keyA.kid }, claims(), () => 'x');
    await expect401(none, 'algorithm_not_allowed');
    const empty = craftJws({ alg: 'none' }, claims());
    expect(peekJwt(empty)).toBeUndefined(); // not even owned
    await expect401(empty, 'algorithm_not_allowed', {
      header: { alg: 'none' },
      payload: { iss: ISS_A },
      canonical: true,
    });
  });

  it('HS256 keyed with the public key', async () => {
    const { x, y } = keyA.publicJwk;
    for (const secret of [JSON.stringify(keyA.publicJwk), `${x}${y}`, JSON.stringify(jwksOf(keyA))]) {
      await expect401(hmacWithPublicKey({ kid: keyA.kid }, claims(), secret), 'algorithm_not_allowed');
    }
  });

  it('an algorithm outside the issuer allow-list', async () => {
    const rsa = await makeKey('RS256');
    serverB.setKeys(jwksOf(keyB, rsa));
    await expect401(await rsa.sign(claims({ iss: ISS_B })), 'algorithm_not_allowed');
  });

  it.each(['jku', 'x5u', 'jwk', 'x5c'])('a %s header, even on a good signature', async (name) => {
    const value = name === 'jwk' ? keyA.publicJwk : name === 'x5c' ? ['MIIB'] : `${serverA.url}?evil`;
    await expect401(await keyA.sign(claims(), { [name]: value }), 'key_in_header');
  });

  it('an unknown crit extension, and an unencoded payload', async () => {
    const crit = await keyA.sign(
      claims(),
      { crit: ['urn:example:must'], 'urn:example:must': 1 },
      { crit: { 'urn:example:must': true } },
    );
    await expect401(crit, 'unsupported_token');
    const b64 = craftJws({ alg: 'ES256', kid: keyA.kid, b64: false, crit: ['b64'] }, claims(), signerOf(keyA));
    await expect401(b64, 'malformed_token');
  });

  it('a wrong audience', async () => {
    await expect401(await keyA.sign(claims({ aud: 'other-api' })), 'wrong_audience');
    await expect401(await keyA.sign(claims({ aud: undefined })), 'wrong_audience');
  });

  it('a token of issuer A signed with issuer B key, and the other way round', async () => {
    // keys are bound to their issuer: B's key is not in A's set, whatever the kid says
    await expect401(await keyB.sign(claims({ iss: ISS_A })), 'unknown_kid');
    await expect401(await keyB.sign(claims({ iss: ISS_A }), { kid: keyA.kid }), 'bad_signature');
    await expect401(await keyA.sign(claims({ iss: ISS_B })), 'unknown_kid');
  });

  it('a wrong issuer under a trusted iss spelling', async () => {
    // same key set, iss differing only by the trailing slash is another issuer, not this one
    expect(await run(await keyA.sign(claims({ iss: 'https://idp-a.example' })))).toBeUndefined();
  });

  it('expired tokens, tokens not valid yet, iat in the future, no exp', async () => {
    await expect401(await keyA.sign(claims({ exp: nowS() - 31 })), 'token_expired');
    await expect401(await keyA.sign(claims({ nbf: nowS() + 60 })), 'token_not_yet_valid');
    await expect401(await keyA.sign(claims({ iat: nowS() + 60 })), 'token_issued_in_future');
    await expect401(await keyA.sign(claims({ exp: undefined })), 'invalid_claims');
    await expect401(await keyA.sign(claims({ iat: 'yesterday' as unknown as number })), 'invalid_claims');
  });

  it('a tampered payload', async () => {
    const [h, , s] = (await keyA.sign(claims())).split('.');
    const p = Buffer.from(JSON.stringify(claims({ scope: 'admin' }))).toString('base64url');
    await expect401(`${h}.${p}.${s}`, 'bad_signature');
  });

  it('refresh and ID tokens that carry a Keycloak-style typ', async () => {
    await expect401(await keyA.sign(claims({ typ: 'Refresh' })), 'wrong_token_type');
    await expect401(await keyA.sign(claims({ typ: 'ID' })), 'wrong_token_type');
  });

  it('garbage in a token it owns, as a 401 and never a throw of anything else', async () => {
    const peek = { header: { alg: 'ES256' }, payload: { iss: ISS_A }, canonical: true };
    for (const token of ['a.b.c', '..', 'e30.e30.', `${'A'.repeat(5000)}.e30.xx`, 'eyJhbGciOiJFUzI1NiJ9.e30.%%%']) {
      const err = await rejection(token, peek);
      expect(err.status).toBe(401);
    }
  });
});

describe('TrustedIssuerAuthenticator keys and caching', () => {
  it('caches a verified token until its exp, never past it', async () => {
    const token = await keyA.sign(claims({ exp: nowS() + 60 }));
    await run(token);
    await run(token);
    expect(auth.stats()).toMatchObject({ cacheHits: 1, cacheMisses: 1 });
    t += 61_000; // past exp but inside the leeway: verified again, not served from cache
    expect(await run(token)).toBeDefined();
    expect(auth.stats().cacheMisses).toBe(2);
    t += 30_000;
    await expect401(token, 'token_expired');
  });

  it('refetches once for an unknown kid, then holds back for the cool-down', async () => {
    await run(await keyA.sign(claims()));
    t += 30_001;
    const stranger = await makeKey('ES256');
    await expect401(await stranger.sign(claims()), 'unknown_kid');
    await expect401(await stranger.sign(claims({ jti: 'other' })), 'unknown_kid');
    await expect401(await stranger.sign(claims(), { kid: 'another' }), 'unknown_kid');
    expect(serverA.requests).toBe(2);
  });

  it('picks up a rotated key', async () => {
    await run(await keyA.sign(claims()));
    const next = await makeKey('ES256');
    serverA.setKeys(jwksOf(keyA, next));
    t += 30_001;
    expect(await run(await next.sign(claims()))).toBeDefined();
    expect(serverA.requests).toBe(2);
  });

  it('forgets cached tokens whose key the issuer withdrew', async () => {
    const token = await keyA.sign(claims({ exp: nowS() + 3600 }));
    await run(token);
    serverA.setKeys(jwksOf(keyB));
    t += 600_000;
    await run(await keyB.sign(claims({ jti: 'warm' }))); // unknown kid: refetch sees the withdrawal
    await expect401(token, 'unknown_kid');
  });

  it('keeps verifying with cached keys while the JWKS endpoint is down or answers garbage', async () => {
    await run(await keyA.sign(claims({ jti: 'first' })));
    await serverA.down();
    t += 3_600_000;
    expect(await run(await keyA.sign(claims({ jti: 'second' })))).toBeDefined();
    await serverA.up();
    serverA.setMode('garbage');
    serverA.setGarbage('{"keys": "nope"}');
    t += 3_600_000;
    expect(await run(await keyA.sign(claims({ jti: 'third' })))).toBeDefined();
    expect(auth.stats().issuers[ISS_A]?.failures).toBeGreaterThanOrEqual(1);
  });

  it('answers 503 when no key of the issuer was ever loaded and the endpoint is down', async () => {
    await serverA.down();
    const err = await rejection(await keyA.sign(claims()));
    expect({ status: err.status, code: err.code, reason: err.reason }).toEqual({
      status: 503,
      code: 'temporarily_unavailable',
      reason: 'jwks_unavailable',
    });
  });

  it('refuses a second entry for the same issuer', () => {
    const [one] = issuers();
    expect(() => new TrustedIssuerAuthenticator([one!, one!])).toThrow(/twice/);
  });
});
