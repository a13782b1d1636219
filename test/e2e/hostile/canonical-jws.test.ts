/**
 * Issue 11.3, RFC 7515 2, 7.1 and Appendix C: a compact JWS is three segments of unpadded base64url. Decoders are
 * lenient, so one signed token had many spellings (a `=` after the signature, the `+`/`/` alphabet, unused trailing
 * bits set in the last character), each a different key for caches and deny lists. Every spelling but the canonical
 * one is 401 on every JWT path (local issuer, trusted issuer) and is never sent to the introspection endpoint.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startIntrospectionServer, type IntrospectionServer } from '../../helpers/introspection-server.js';
import { jwksOf, makeKey, startJwksServer, type JwksServer, type TestKey } from '../../helpers/jwks-server.js';
import {
  bearer,
  expectError,
  expectNothingForwarded,
  localClaims,
  localKey,
  signLocal,
  startHostile,
  type Hostile,
  type LocalKey,
} from './harness.js';

const IDP = 'https://idp.test/';
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

let h: Hostile;
let jwks: JwksServer;
let idpKey: TestKey;
let local: LocalKey;
let introspection: IntrospectionServer;

/** The last character with one unused (decoding discards it) bit set: same bytes, another spelling. */
function trailingBits(part: string): string | undefined {
  const rem = part.length % 4;
  if (rem === 0) return undefined;
  const v = ALPHABET.indexOf(part.at(-1)!);
  return part.slice(0, -1) + ALPHABET[v | 1];
}

/** Other spellings of the same signed token; every one decodes to the same bytes. */
function spellings(token: string): Record<string, string> {
  const [header, payload, sig] = token.split('.') as [string, string, string];
  const out: Record<string, string> = {
    'signature + "="': `${token}=`,
    'signature + "=="': `${token}==`,
  };
  const std = token.replaceAll('-', '+').replaceAll('_', '/');
  if (std !== token) out['the +/ alphabet'] = std;
  const parts = { header, payload, signature: sig };
  for (const [name, part] of Object.entries(parts)) {
    const odd = trailingBits(part);
    if (odd === undefined) continue;
    out[`unused trailing bits in the ${name}`] = token.replace(
      name === 'signature' ? `.${part}` : `${part}.`,
      name === 'signature' ? `.${odd}` : `${odd}.`,
    );
  }
  return out;
}

/** Mints until the token has a `-` or `_` somewhere (so the `+/` spelling differs) and a signature of 4n+2 chars. */
async function mintVaried(mint: (n: number) => Promise<string>): Promise<string> {
  for (let n = 0; ; n++) {
    const token = await mint(n);
    if (/[-_]/.test(token) || n > 50) return token;
  }
}

beforeAll(async () => {
  idpKey = await makeKey('ES256');
  jwks = await startJwksServer(jwksOf(idpKey));
  introspection = await startIntrospectionServer();
  h = await startHostile({
    issuerExtra: `trusted_issuers:
  - issuer: ${IDP}
    jwks_uri: ${jwks.url}
    audience: restaurant-api
    algorithms: [ES256]
introspection:
  endpoint: ${introspection.url}
  client_id: gateway
  client_secret: introspection-secret-0123456789
`,
  });
  local = await localKey(h.gw);
});

afterAll(async () => {
  await h?.close();
  await jwks?.close();
  await introspection?.close();
});

async function expectOneSpelling(token: string) {
  expect((await bearer(h, '/api/menu/x', token)).status).toBe(200);
  const variants = spellings(token);
  expect(Object.keys(variants).length).toBeGreaterThanOrEqual(4);
  for (const [name, variant] of Object.entries(variants)) {
    expect(variant, name).not.toBe(token);
    h.upstream.requests.length = 0;
    const res = await bearer(h, '/api/menu/x', variant);
    expectError(res, 401, 'invalid_token');
    expect(res.headers['www-authenticate'], name).toMatch(/error="invalid_token"/);
    expectNothingForwarded(h);
    expect(h.gw.logs.filter((l) => l.msg === 'request').at(-1)?.reason, name).toBe('non_canonical_jws');
  }
  expect(introspection.tokens).toEqual([]);
}

describe('one token, one spelling', () => {
  it('a local access token', async () => {
    const token = await mintVaried((n) => signLocal(local, localClaims({ jti: `canon-${n}` })));
    await expectOneSpelling(token);
  });

  it("a trusted issuer's token", async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = await mintVaried((n) =>
      idpKey.sign({
        iss: IDP,
        aud: 'restaurant-api',
        client_id: 'x',
        scope: 'menu:read',
        iat: now,
        exp: now + 600,
        jti: `t${n}`,
      }),
    );
    await expectOneSpelling(token);
  });

  it('a token minted by the token endpoint', async () => {
    await expectOneSpelling(h.posToken);
  });
});
