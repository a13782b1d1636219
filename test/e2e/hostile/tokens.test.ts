/**
 * THREATS.md "Tokens": crafted JWTs against the local issuer, signed with its own key where that isolates the one
 * thing wrong with the token (the attacker then holds the issuer's key and still must not get through), or with an
 * attacker's key where the attack is to make the gateway trust another key. Every case: 401 invalid_token (or 403
 * for scope tricks, 400 for malformed framing), and the upstream sees nothing.
 */
import { createHmac, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { send } from '../../helpers/http.js';
import {
  AUDIENCE,
  ISSUER,
  SECRETS,
  b64,
  bearer,
  expectError,
  expectNothingForwarded,
  expectNotLogged,
  localClaims,
  localKey,
  signRaw,
  startHostile,
  startTrap,
  type Hostile,
  type LocalKey,
} from './harness.js';

let h: Hostile;
let key: LocalKey;
let trap: Awaited<ReturnType<typeof startTrap>>;
let attacker: { jwk: JWK; sign: (header: Record<string, unknown>, payload: unknown) => string };
const used: string[] = [];

beforeAll(async () => {
  h = await startHostile();
  key = await localKey(h.gw);
  trap = await startTrap();
  const pair = await generateKeyPair('ES256', { extractable: true });
  const jwk = { ...(await exportJWK(pair.privateKey)), kid: key.kid, alg: 'ES256' };
  const pub: JWK = { ...jwk };
  delete pub.d;
  attacker = {
    jwk: pub,
    sign: (header, payload) => signRaw({ ...key, privateJwk: jwk }, header, payload as Record<string, unknown>),
  };
});
afterAll(async () => {
  expectNotLogged(h.gw, used);
  await trap?.close();
  await h?.close();
});
beforeEach(() => {
  h.upstream.requests.length = 0;
});

const hdr = (over: Record<string, unknown> = {}) => ({ alg: 'ES256', kid: key.kid, typ: 'at+jwt', ...over });
const now = () => Math.floor(Date.now() / 1000);

async function expect401(token: string, path = '/api/menu') {
  used.push(token);
  const res = await bearer(h, path, token);
  expectError(res, 401, 'invalid_token');
  expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="restaurant-api", error="invalid_token"/);
  expectNothingForwarded(h);
  return res;
}

describe('a correctly signed control token passes (so the cases below fail for their one defect)', () => {
  it('200', async () => {
    const token = signRaw(key, hdr(), localClaims());
    used.push(token);
    expect((await bearer(h, '/api/menu', token)).status).toBe(200);
  });
});

describe('algorithm and key confusion', () => {
  it('alg none, empty signature', async () => {
    await expect401(`${b64(hdr({ alg: 'none' }))}.${b64(localClaims())}.`);
  });

  it('alg none with a signature part', async () => {
    await expect401(`${b64(hdr({ alg: 'none' }))}.${b64(localClaims())}.c2ln`);
  });

  it('alg NONE / None spelled otherwise', async () => {
    for (const alg of ['NONE', 'None', 'nOnE']) await expect401(`${b64(hdr({ alg }))}.${b64(localClaims())}.`);
  });

  it('HS256 keyed with the public JWK (alg confusion)', async () => {
    for (const secret of [
      JSON.stringify(key.publicJwk),
      key.publicJwk.x!,
      Buffer.from(key.publicJwk.x!, 'base64url'),
    ]) {
      const input = `${b64(hdr({ alg: 'HS256' }))}.${b64(localClaims())}`;
      const sig = createHmac('sha256', secret).update(input).digest('base64url');
      await expect401(`${input}.${sig}`);
    }
  });

  it('another asymmetric alg named for the local kid (ES384, RS256, EdDSA)', async () => {
    for (const alg of ['ES384', 'RS256', 'EdDSA', 'PS256']) await expect401(signRaw(key, hdr({ alg }), localClaims()));
  });

  it('an attacker key embedded as jwk, with the local kid', async () => {
    await expect401(attacker.sign(hdr({ jwk: attacker.jwk }), localClaims()));
  });

  it('an attacker key embedded as jwk, without kid', async () => {
    await expect401(attacker.sign({ alg: 'ES256', typ: 'at+jwt', jwk: attacker.jwk }, localClaims()));
  });

  it('jku and x5u pointing at an attacker server: never fetched', async () => {
    await expect401(attacker.sign(hdr({ jku: `${trap.url}/jwks.json` }), localClaims()));
    await expect401(attacker.sign(hdr({ x5u: `${trap.url}/cert.pem`, kid: 'attacker' }), localClaims()));
    expect(trap.hits()).toBe(0);
  });

  it('x5c with an attacker certificate chain', async () => {
    await expect401(attacker.sign(hdr({ x5c: [randomBytes(300).toString('base64')] }), localClaims()));
  });

  it('an unknown crit extension, signed with the real key', async () => {
    await expect401(signRaw(key, hdr({ crit: ['exp-override'], 'exp-override': true }), localClaims()));
  });

  it('b64: false (RFC 7797) in crit', async () => {
    await expect401(signRaw(key, hdr({ crit: ['b64'], b64: false }), localClaims()));
  });

  it('an unknown, numeric or path-like kid', async () => {
    for (const kid of ['no-such-kid', 42, '../../../../etc/passwd', '', null, ['x']]) {
      await expect401(signRaw(key, hdr({ kid }), localClaims()));
    }
  });

  it('a tampered payload under the original signature', async () => {
    const [head, , sig] = h.posToken.split('.');
    await expect401(`${head}.${b64(localClaims({ scope: 'menu:read menu:write' }))}.${sig}`);
  });

  it('a JWE (five parts) where a JWS is expected', async () => {
    await expect401(
      `${b64({ alg: 'RSA-OAEP', enc: 'A256GCM', kid: key.kid })}.${b64('k')}.${b64('iv')}.${b64('ct')}.${b64('tag')}`,
    );
    await expect401(`${b64({ alg: 'dir', enc: 'A256GCM' })}..${b64('iv')}.${b64('ct')}.${b64('tag')}`);
  });

  it('four parts, or a signature appended twice', async () => {
    const [a, b, c] = h.posToken.split('.');
    await expect401(`${a}.${b}.${c}.${c}`);
    await expect401(`${a}.${b}.${c}${c}`);
  });
});

describe('claims', () => {
  const cases: [string, Record<string, unknown>][] = [
    ['wrong audience', { aud: 'another-api' }],
    ['audience missing', { aud: undefined }],
    ['wrong issuer (not owned by any authenticator)', { iss: 'http://evil.test' }],
    ['issuer with a trailing slash', { iss: `${ISSUER}/` }],
    ['issuer differing in case', { iss: ISSUER.toUpperCase() }],
    ['expired beyond the leeway', { iat: now() - 600, exp: now() - 120 }],
    ['nbf in the future beyond the leeway', { nbf: now() + 300 }],
    ['iat in the future beyond the leeway', { iat: now() + 300, exp: now() + 900 }],
    ['lifetime longer than access_token_ttl (30m)', { iat: now(), exp: now() + 3 * 3600 }],
    ['exp as a string', { exp: String(now() + 600) }],
    ['exp missing', { exp: undefined }],
    ['jti missing', { jti: undefined }],
    ['client_id of a client that does not exist', { client_id: 'ghost', sub: 'ghost' }],
    ['client_id of the wrong type', { client_id: { id: 'pos' } }],
    [
      'a tenant the client may not act for',
      { client_id: 'booking', sub: 'booking', tenant: 'rest-hamburg', scope: 'menu:read' },
    ],
  ];
  for (const [name, over] of cases) {
    it(name, async () => {
      await expect401(signRaw(key, hdr(), localClaims(over)));
    });
  }

  it('typ other than at+jwt (JWT, missing, id token style)', async () => {
    for (const typ of ['JWT', undefined, 'application/jwt', 'id_token+jwt', 'AT+JWT2']) {
      await expect401(signRaw(key, hdr({ typ }), localClaims()));
    }
  });

  it('a refresh token is never an access token, nor an API key', async () => {
    await expect401(h.posRefresh);
    used.push(h.posRefresh);
    const res = await send(h.gw.url, 'GET', '/api/menu', ['X-Api-Key', h.posRefresh]);
    expectError(res, 401, 'invalid_token');
    expectNothingForwarded(h);
  });

  it('an access token sent as an API key, and an API key sent as a Bearer token', async () => {
    const asKey = await send(h.gw.url, 'GET', '/api/menu', ['X-Api-Key', h.posToken]);
    expectError(asKey, 401, 'invalid_token');
    await expect401(SECRETS.menuKey);
  });
});

describe('scope claims: exact, case-sensitive, strings only', () => {
  async function expect403(payload: Record<string, unknown> | string) {
    const token = signRaw(key, hdr(), payload);
    used.push(token);
    const res = await bearer(h, '/api/menu', token);
    expectError(res, 403, 'insufficient_scope');
    expectNothingForwarded(h);
  }

  const wrongTypes: [string, unknown][] = [
    ['an array (scope must be a string)', ['menu:read']],
    ['an object', { 'menu:read': true }],
    ['a number', 1],
    ['true', true],
    ['null', null],
  ];
  for (const [name, scope] of wrongTypes) {
    it(`scope as ${name} grants nothing`, async () => {
      await expect403(localClaims({ scope: scope as string }));
    });
  }

  it('case and near-misses grant nothing', async () => {
    for (const scope of [
      'MENU:READ',
      'Menu:read',
      'menu:read2',
      'menu:*',
      '*',
      'menu',
      'menu:read\torders:read',
      'menu:read,orders:read',
    ]) {
      await expect403(localClaims({ scope }));
    }
  });

  it('a non-breaking space or other Unicode space does not split', async () => {
    await expect403(localClaims({ scope: 'orders:read\u00a0menu:read' }));
    await expect403(localClaims({ scope: 'orders:read\u2003menu:read' }));
  });

  it('__proto__ and constructor tricks in the raw JSON grant nothing', async () => {
    const base = JSON.stringify(localClaims({ scope: undefined }));
    await expect403(`${base.slice(0, -1)},"__proto__":{"scope":"menu:read"}}`);
    await expect403(`${base.slice(0, -1)},"constructor":{"prototype":{"scope":"menu:read"}}}`);
    await expect403(localClaims({ scope: '__proto__ constructor toString hasOwnProperty' }));
  });

  it('a scope the client no longer has in the config is dropped', async () => {
    // pos does not hold menu:write: a token claiming it is signed, but the config is the upper bound
    const token = signRaw(key, hdr(), localClaims({ scope: 'menu:write' }));
    used.push(token);
    const res = await send(h.gw.url, 'POST', '/api/menu', ['Authorization', `Bearer ${token}`], '{}');
    expectError(res, 403, 'insufficient_scope');
    expectNothingForwarded(h);
  });
});

describe('garbage of any length and shape: a fast 400 or 401, never a 500', () => {
  it('8 KiB of base64 garbage: 400 malformed; 20 KiB: 431 before parsing', async () => {
    const big = await bearer(h, '/api/menu', 'A'.repeat(9000));
    expectError(big, 400, 'invalid_request');
    const huge = await bearer(h, '/api/menu', 'A'.repeat(20000));
    expect(huge.status).toBe(431);
    expectNothingForwarded(h);
  });

  it('JWT-shaped garbage with huge or non-JSON parts', async () => {
    await expect401(`${'e'.repeat(3000)}.${'e'.repeat(3000)}.${'e'.repeat(1000)}`);
    await expect401(`${b64('[1,2,3]')}.${b64('"str"')}.sig`);
    await expect401(`${b64('null')}.${b64('null')}.sig`);
    await expect401(`${b64(hdr())}.${b64('{"iss":')}.sig`);
    await expect401(`${b64({ ...hdr(), alg: { $gt: '' } })}.${b64(localClaims())}.sig`);
    await expect401('...');
    await expect401('a.b.c');
  });

  it('deeply nested JSON in the payload', async () => {
    // under the 8 KiB credential limit, so the JSON parser does see it
    const nested = `${'['.repeat(2500)}${']'.repeat(2500)}`;
    await expect401(signRaw(key, hdr(), `{"iss":"${ISSUER}","aud":"${AUDIENCE}","x":${nested}}`));
  });

  it('random b64token strings (property): always 400 or 401', async () => {
    const chars = [...'ABCabc012-._~+/'];
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom(...chars), { minLength: 1, maxLength: 300 }).map((a) => a.join('')),
        fc.constantFrom('', '=', '.', '..'),
        async (body, tail) => {
          const res = await bearer(h, '/api/menu', body + tail);
          expect([400, 401]).toContain(res.status);
        },
      ),
      { numRuns: 60 },
    );
    expectNothingForwarded(h);
  });

  it('random header bytes after Bearer (property): never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 200 }), async (value) => {
        // Node refuses to send control characters in a header: those are framing cases (framing.test.ts)
        const clean = value.replace(/[^\t\x20-\x7e]/g, '');
        const res = await send(h.gw.url, 'GET', '/api/menu', ['Authorization', `Bearer ${clean}`]);
        expect(res.status).toBeLessThan(500);
        expect([400, 401]).toContain(res.status);
      }),
      { numRuns: 60 },
    );
    expectNothingForwarded(h);
  });
});
