/**
 * Shared harness of the hostile suite (THREATS.md, issue 5): a real gateway with the standard config in front of a
 * recording upstream on 127.0.0.1, the local issuer's private key for crafting tokens, and assertions that every
 * case checks: the status, the error code, and that the upstream saw nothing where it must not.
 */
import { createPrivateKey, sign as cryptoSign } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { importJWK, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import { expect } from 'vitest';
import { SECRETS, standardConfig, type FixtureOptions } from '../../helpers/fixtures.js';
import { getToken, send, type RawResponse } from '../../helpers/http.js';
import { startRecordingUpstream, type RecordingUpstream } from '../../helpers/recording-upstream.js';
import { startTestGateway, type TestGateway } from '../../helpers/test-gateway.js';

export const ISSUER = 'http://gateway.test';
export const AUDIENCE = 'restaurant-api';

export interface Hostile {
  upstream: RecordingUpstream;
  gw: TestGateway;
  /** pos: menu:read orders:read orders:write */
  posToken: string;
  /** booking, bound to tenant rest-berlin */
  berlinToken: string;
  /** a refresh token of pos (never an access token) */
  posRefresh: string;
  close(): Promise<void>;
}

export async function startHostile(options: Omit<FixtureOptions, 'upstream'> = {}): Promise<Hostile> {
  const upstream = await startRecordingUpstream();
  // The suite sends thousands of failed credentials from 127.0.0.1: lift the failed-auth limit unless a test sets it.
  const serverExtra = options.serverExtra ?? '  failed_auth_limit: 1000000/min';
  const gw = await startTestGateway(await standardConfig({ upstream: upstream.url, ...options, serverExtra }));
  const pos = await getToken(gw.url, 'pos', SECRETS.posSecret);
  const berlin = await getToken(gw.url, 'booking', SECRETS.bookingSecret, { organization_id: 'rest-berlin' });
  return {
    upstream,
    gw,
    posToken: pos.access_token as string,
    posRefresh: pos.refresh_token as string,
    berlinToken: berlin.access_token as string,
    async close() {
      await gw.close();
      await upstream.close();
    },
  };
}

/** A gateway error: status, JSON body with `error` and `error_description`, never cached. */
export function expectError(res: RawResponse, status: number, code: string): void {
  expect({ status: res.status, body: res.body }).toMatchObject({ status });
  expect(res.headers['content-type']).toBe('application/json');
  expect(res.headers['cache-control']).toBe('no-store');
  const body = res.json();
  expect(body.error).toBe(code);
  expect(typeof body.error_description).toBe('string');
}

/** The status line of a raw response. */
export function rawStatus(out: string): number {
  const m = /^HTTP\/1\.1 (\d{3}) /.exec(out);
  return m ? Number(m[1]) : 0;
}

/** The JSON body of a raw response (Content-Length or chunked framing: the one JSON object in it). */
export function rawJson(out: string): Record<string, unknown> {
  const body = out.slice(out.indexOf('\r\n\r\n') + 4);
  const m = /\{.*\}/s.exec(body);
  return JSON.parse(m ? m[0] : body) as Record<string, unknown>;
}

export function expectNothingForwarded(h: Hostile): void {
  expect(h.upstream.requests.map((r) => `${r.method} ${r.url}`)).toEqual([]);
}

/** No log line of the gateway contains any of `secrets` (nor its base64 in a Basic value). */
export function expectNotLogged(gw: TestGateway, secrets: readonly string[]): void {
  const all = gw.rawLogs.join('\n');
  for (const s of secrets) {
    if (s.length < 8) continue;
    expect(all.includes(s), `log contains a secret (${s.slice(0, 6)}...)`).toBe(false);
    // The signature part of a JWT alone is enough to replay nothing, but must not be logged either.
    const sig = s.split('.')[2];
    if (sig && sig.length >= 16) expect(all.includes(sig), 'log contains a token signature').toBe(false);
  }
}

export interface LocalKey {
  kid: string;
  alg: string;
  privateKey: CryptoKey | Uint8Array;
  privateJwk: JWK;
  publicJwk: JWK;
}

/** The local issuer's signing key, read from the gateway's key folder (the attacker who has it is the issuer). */
export async function localKey(gw: TestGateway): Promise<LocalKey> {
  const dir = join(gw.dir, 'keys');
  const file = readdirSync(dir).find((f) => f.endsWith('.json'))!;
  const jwk = JSON.parse(readFileSync(join(dir, file), 'utf8')) as JWK;
  const publicJwk: JWK = { ...jwk };
  delete publicJwk.d;
  return { kid: jwk.kid!, alg: jwk.alg!, privateKey: await importJWK(jwk, jwk.alg), privateJwk: jwk, publicJwk };
}

/** Claims of a valid local access token for `pos`, to be overridden per case. */
export function localClaims(over: JWTPayload = {}): JWTPayload {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: ISSUER,
    aud: AUDIENCE,
    sub: 'pos',
    client_id: 'pos',
    scope: 'menu:read orders:read',
    jti: `jti-${Math.random().toString(36).slice(2)}`,
    iat: now,
    exp: now + 600,
    ...over,
  };
}

/** Signs `payload` with the local key; `header` overrides the protected header (alg, kid, typ, jku, crit ...). */
export async function signLocal(
  key: LocalKey,
  payload: JWTPayload,
  header: Record<string, unknown> = {},
): Promise<string> {
  return new SignJWT(payload)
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt', ...header } as never)
    .sign(key.privateKey);
}

/**
 * Signs with the local ES256 key by hand, so any header (unknown `crit`, `jku`, odd `typ`) and any payload text
 * (raw JSON with `__proto__`) can be sent: jose refuses to sign some of them.
 */
export function signRaw(key: LocalKey, header: Record<string, unknown>, payload: JWTPayload | string): string {
  const input = `${b64(header)}.${b64(typeof payload === 'string' ? payload : JSON.stringify(payload))}`;
  const pk = createPrivateKey({ key: key.privateJwk as never, format: 'jwk' });
  const sig = cryptoSign('sha256', Buffer.from(input), { key: pk, dsaEncoding: 'ieee-p1363' });
  return `${input}.${sig.toString('base64url')}`;
}

/** base64url of a JSON value */
export const b64 = (v: unknown): string =>
  Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

/** An HTTP server that counts what it is asked for: a `jku`/`x5u` target that must never be fetched. */
export async function startTrap(): Promise<{ url: string; hits: () => number; close: () => Promise<void> }> {
  let hits = 0;
  const server: Server = createServer((_req, res) => {
    hits++;
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end('{"keys":[]}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits: () => hits,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** GET with a Bearer token */
export const bearer = (h: Hostile, path: string, token: string, extra: string[] = []): Promise<RawResponse> =>
  send(h.gw.url, 'GET', path, ['Authorization', `Bearer ${token}`, ...extra]);

export { SECRETS, send };
