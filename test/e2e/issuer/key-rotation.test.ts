/**
 * Keys across instances (issue 12 item 6): instances sharing one `issuer.keys` folder. A key added to the folder
 * signs on the instance that reloads, and every other instance honours its tokens without a restart, because a
 * token with an unknown `kid` makes an instance re-read the folder, at most once per cool-down.
 */
import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeProtectedHeader, importJWK, SignJWT, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateJwk } from '../../../src/issuer/keys.js';
import { SECRETS, standardConfig } from '../../helpers/fixtures.js';
import { getToken, send } from '../../helpers/http.js';
import { startRecordingUpstream, type RecordingUpstream } from '../../helpers/recording-upstream.js';
import { startTestGateway, type TestGateway } from '../../helpers/test-gateway.js';

let upstream: RecordingUpstream;
let keysDir: string;
let yaml: string;
let a: TestGateway;
let b: TestGateway;

const kidOf = (token: string) => decodeProtectedHeader(token).kid;
const bearer = (token: string) => ['Authorization', `Bearer ${token}`];
const reloadsOf = (gw: TestGateway, reason: string) =>
  gw.logs.filter((l) => l.msg === 'issuer keys reloaded' && l.reason === reason);

/** As an operator rotates: write the key aside, then rename it in, so no instance reads half a file. */
async function addKey(name: string): Promise<JWK> {
  const jwk = await generateJwk('ES256');
  const tmp = join(keysDir, `.${name}.tmp`);
  writeFileSync(tmp, JSON.stringify(jwk));
  renameSync(tmp, join(keysDir, name));
  return jwk;
}

beforeAll(async () => {
  upstream = await startRecordingUpstream();
  keysDir = join(mkdtempSync(join(tmpdir(), 'scopegate-keys-')), 'keys');
  yaml = (await standardConfig({ upstream: upstream.url })).replace('keys: ./keys', `keys: ${keysDir}`);
  // Two instances with their own stores and listeners, one key folder.
  a = await startTestGateway(yaml);
  b = await startTestGateway(yaml);
});

afterAll(async () => {
  await Promise.all([a?.close(), b?.close()]);
  await upstream?.close();
});

describe('a key rotated on one instance', () => {
  it('signs on A after its reload; B accepts the token without a restart, then signs with it and serves it', async () => {
    const before = (await getToken(a.url, 'pos', SECRETS.posSecret)).access_token as string;
    const next = await addKey(`${Math.floor(Date.now() / 1000)}-next.json`);
    expect(kidOf(before)).not.toBe(next.kid);

    await a.reload(); // what SIGHUP or a config change does
    const after = (await getToken(a.url, 'pos', SECRETS.posSecret)).access_token as string;
    expect(kidOf(after)).toBe(next.kid);

    expect(reloadsOf(b, 'unknown_kid')).toHaveLength(0);
    const res = await send(b.url, 'GET', '/api/menu/today', bearer(after));
    expect(res.status).toBe(200);
    expect(upstream.requests.at(-1)!.headers['x-auth-client-id']).toBe('pos');
    expect(reloadsOf(b, 'unknown_kid')).toMatchObject([{ added: [next.kid], signing_kid: next.kid }]);

    // the old key keeps verifying; B's JWKS serves the new public key (never its private part); B now signs with it
    expect((await send(b.url, 'GET', '/api/menu/today', bearer(before))).status).toBe(200);
    const jwks = (await send(b.url, 'GET', '/.well-known/jwks.json')).json() as { keys: JWK[] };
    expect(jwks.keys.map((k) => k.kid)).toEqual([kidOf(before), next.kid]);
    for (const k of jwks.keys) expect(k.d).toBeUndefined();
    const fromB = (await getToken(b.url, 'pos', SECRETS.posSecret)).access_token as string;
    expect(kidOf(fromB)).toBe(next.kid);
    expect((await send(a.url, 'GET', '/api/menu/today', bearer(fromB))).status).toBe(200);
  });

  it('a key file removed from the folder stops verifying after a reload', async () => {
    const c = await startTestGateway(yaml);
    try {
      const name = `${Math.floor(Date.now() / 1000) + 1}-third.json`;
      const third = await addKey(name);
      await c.reload();
      const token = (await getToken(c.url, 'pos', SECRETS.posSecret)).access_token as string;
      expect(kidOf(token)).toBe(third.kid);
      expect((await send(c.url, 'GET', '/api/menu/today', bearer(token))).status).toBe(200);
      renameSync(join(keysDir, name), join(keysDir, 'third.retired'));
      await c.reload();
      const res = await send(c.url, 'GET', '/api/menu/today', bearer(token));
      expect(res.status).toBe(401);
      expect(res.json().error).toBe('invalid_token');
    } finally {
      await c.close();
    }
  });
});

describe('the JWKS of an instance that met no token with the new key', () => {
  it('serves a key added to the folder (the folder is listed before the JWKS is served)', async () => {
    const d = await startTestGateway(yaml);
    try {
      const added = await addKey(`${Math.floor(Date.now() / 1000) + 2}-fourth.json`);
      expect(d.services.keys!.verify.has(added.kid!)).toBe(false);
      const after = (await send(d.url, 'GET', '/.well-known/jwks.json')).json() as { keys: JWK[] };
      expect(after.keys.map((k) => k.kid)).toContain(added.kid);
      expect(reloadsOf(d, 'folder_changed')).toHaveLength(1);
    } finally {
      await d.close();
    }
  });
});

describe('tokens with unknown kids', () => {
  it('a flood of forged kids reads the folder once per cool-down and is refused', async () => {
    const c = await startTestGateway(yaml);
    try {
      const attacker = await generateJwk('ES256');
      const key = await importJWK(attacker, 'ES256');
      const forged = (i: number) =>
        new SignJWT({ client_id: 'pos', scope: 'menu:read' })
          .setProtectedHeader({ alg: 'ES256', kid: `forged-${i}-${Math.random()}`, typ: 'at+jwt' })
          .setIssuer('http://gateway.test')
          .setSubject('pos')
          .setAudience('restaurant-api')
          .setIssuedAt()
          .setExpirationTime('5m')
          .setJti(`j${i}`)
          .sign(key);
      const seen = upstream.requests.length;
      const parallel = await Promise.all(
        Array.from({ length: 20 }, async (_, i) => send(c.url, 'GET', '/api/menu/today', bearer(await forged(i)))),
      );
      const sequential = [];
      for (let i = 20; i < 40; i++)
        sequential.push(await send(c.url, 'GET', '/api/menu/today', bearer(await forged(i))));
      for (const res of [...parallel, ...sequential]) {
        expect(res.status).toBe(401);
        expect(res.json().error).toBe('invalid_token');
      }
      expect(upstream.requests.length).toBe(seen);
      // 40 unknown kids within the 5 s cool-down: exactly one folder read
      expect(reloadsOf(c, 'unknown_kid')).toHaveLength(1);
      const metrics = await (await fetch(`${c.adminUrl!}/metrics`)).text();
      expect(metrics).toContain(
        'scopegate_file_reloads_total{what="issuer_keys",reason="unknown_kid",result="ok"} 1\n',
      );
    } finally {
      await c.close();
    }
  });
});
