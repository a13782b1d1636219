import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IntrospectionAuthenticator, type IntrospectionOptions } from '../../src/auth/introspection-authenticator.js';
import type { IntrospectionConfig } from '../../src/config/schema.js';
import { OAuthError } from '../../src/errors/oauth-error.js';

interface Seen {
  method: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A real RFC 7662 endpoint whose answer each test sets. */
let answer: (res: ServerResponse, body: URLSearchParams) => void;
let seen: Seen[];
let redirected: number;
let server: Server;
let url: string;
const sockets = new Set<Socket>();
let t: number;
let auth: IntrospectionAuthenticator;

const json =
  (value: unknown, status = 200) =>
  (res: ServerResponse) =>
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
const raw =
  (text: string, type = 'application/json', status = 200) =>
  (res: ServerResponse) =>
    res.writeHead(status, { 'content-type': type }).end(text);

const config = (overrides: Partial<IntrospectionConfig> = {}): IntrospectionConfig => ({
  endpoint: `${url}/introspect`,
  client_id: 'gateway',
  client_secret: 's3cret',
  cache_ttl: 60_000,
  timeout: 1_000,
  ...overrides,
});
const make = (overrides: Partial<IntrospectionConfig> = {}, options: IntrospectionOptions = {}) =>
  (auth = new IntrospectionAuthenticator(config(overrides), { now: () => t, ...options }));

const nowS = () => Math.floor(t / 1000);
const active = (extra: Record<string, unknown> = {}) => ({
  active: true,
  client_id: 'pos-partner',
  scope: 'menu:read orders:write',
  exp: nowS() + 600,
  ...extra,
});

async function failure(token = 'opaque-token'): Promise<OAuthError> {
  const err: unknown = await auth.authenticate(token, undefined).then(
    (identity) => new Error(`granted: ${JSON.stringify(identity)}`),
    (e: unknown) => e,
  );
  if (!(err instanceof OAuthError)) throw err;
  return err;
}
const expectStatus = async (status: number, token?: string) => {
  const err = await failure(token);
  expect(err.status).toBe(status);
  return err;
};

beforeEach(async () => {
  seen = [];
  redirected = 0;
  t = Date.UTC(2026, 0, 1);
  answer = (res) => json(active())(res);
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      if (req.url === '/elsewhere') {
        redirected++;
        json(active({ client_id: 'attacker' }))(res);
        return;
      }
      seen.push({ method: req.method ?? '', headers: req.headers, body });
      answer(res, new URLSearchParams(body));
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  make();
});

afterEach(async () => {
  auth.close();
  for (const s of sockets) s.destroy();
  await new Promise((resolve) => server.close(resolve));
});

describe('IntrospectionAuthenticator request', () => {
  it('POSTs the token form-encoded with Basic client auth (RFC 7662 2.1, RFC 6749 2.3.1)', async () => {
    make({ client_id: 'gate way:1', client_secret: 'p@ss:w/rd+é' });
    await auth.authenticate('abc.DEF-123_~+/=', undefined);
    expect(seen).toHaveLength(1);
    const [req] = seen;
    expect(req!.method).toBe('POST');
    expect(req!.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(req!.headers.accept).toBe('application/json');
    expect(Object.fromEntries(new URLSearchParams(req!.body))).toEqual({
      token: 'abc.DEF-123_~+/=',
      token_type_hint: 'access_token',
    });
    const basic = Buffer.from(req!.headers.authorization!.replace(/^Basic /, ''), 'base64').toString('utf8');
    expect(basic).toBe('gate+way%3A1:p%40ss%3Aw%2Frd%2B%C3%A9');
    const [id, secret] = basic.split(':').map((p) => new URLSearchParams(`x=${p}`).get('x'));
    expect([id, secret]).toEqual(['gate way:1', 'p@ss:w/rd+é']);
  });

  it('never sends something that is not a bearer token', async () => {
    await expectStatus(401, 'has space');
    await expectStatus(401, 'x'.repeat(20_000));
    await expectStatus(401, 'bad\u0000char');
    expect(seen).toHaveLength(0);
  });
});

describe('IntrospectionAuthenticator answers', () => {
  it('turns an active answer into an identity', async () => {
    answer = (res) =>
      json(active({ tenant: 'rest-berlin', sub: 'svc', jti: 'j1', iss: 'https://idp.example/', iat: nowS() }))(res);
    expect(await auth.authenticate('tok', undefined)).toEqual({
      clientId: 'pos-partner',
      scopes: ['menu:read', 'orders:write'],
      tenant: 'rest-berlin',
      method: 'bearer',
      issuer: 'introspection',
      subject: 'svc',
      tokenId: 'j1',
      issuedAt: nowS() * 1000,
      expiresAt: (nowS() + 600) * 1000,
    });
  });

  it('falls back to sub for the client, and grants nothing from a scope that is not a string', async () => {
    answer = (res) => json(active({ client_id: undefined, sub: 'svc', scope: ['admin'] }))(res);
    expect(await auth.authenticate('tok', undefined)).toMatchObject({ clientId: 'svc', scopes: [] });
  });

  it.each([
    ['"active": "true"', { active: 'true', client_id: 'x', scope: 'admin' }],
    ['"active": 1', { active: 1, client_id: 'x' }],
    ['"active": false', { active: false }],
    ['no active member', { client_id: 'x', scope: 'admin' }],
    ['an inherited active', JSON.parse('{"__proto__": {"active": true}, "client_id": "x"}') as unknown],
  ])('is 401 for %s', async (_name, body) => {
    answer = (res) => (typeof body === 'string' ? raw(body)(res) : json(body)(res));
    const err = await expectStatus(401);
    expect(err.code).toBe('invalid_token');
  });

  it('is 401 for an active token that expired, is not valid yet, is a refresh token or names no client', async () => {
    for (const [i, extra] of [
      { exp: nowS() - 1 },
      { nbf: nowS() + 120 },
      { token_type: 'refresh_token' },
      { typ: 'Refresh' },
      { client_id: undefined },
    ].entries()) {
      answer = (res) => json(active(extra))(res);
      await expectStatus(401, `token-${i}`);
    }
  });

  it('checks aud when an audience is configured', async () => {
    make({}, { audience: 'restaurant-api' });
    answer = (res) => json(active({ aud: ['other', 'restaurant-api'] }))(res);
    expect(await auth.authenticate('ok', undefined)).toBeDefined();
    answer = (res) => json(active({ aud: 'other' }))(res);
    expect((await expectStatus(401, 'other')).reason).toBe('wrong_audience');
  });
});

describe('IntrospectionAuthenticator fails closed with 503', () => {
  it.each([
    ['a 500', raw('oops', 'text/plain', 500)],
    ['a 401 (gateway credentials refused)', json({ error: 'invalid_client' }, 401)],
    ['a 204', (res: ServerResponse) => res.writeHead(204).end()],
    ['non-JSON', raw('<html>active: true</html>', 'text/html')],
    ['a JSON array', raw('[{"active":true}]')],
    ['JSON null', raw('null')],
    ['a JSON string', raw('"active"')],
    ['a truncated body', raw('{"active":true,')],
    ['an exp that is not a number', json(active({ exp: 'tomorrow' }))],
    ['an oversized answer', json(active({ pad: 'x'.repeat(100_000) }))],
    ['a redirect', (res: ServerResponse) => res.writeHead(307, { location: '/elsewhere' }).end()],
  ])('on %s', async (_name, handler) => {
    answer = handler;
    const err = await expectStatus(503);
    expect(err.code).toBe('temporarily_unavailable');
    expect(err.description).not.toMatch(/127\.0\.0\.1|oops|html/);
    expect(redirected).toBe(0);
  });

  it('on a timeout', async () => {
    make({ timeout: 200 });
    answer = () => undefined; // hang
    const started = Date.now();
    await expectStatus(503);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('when the endpoint is down, and recovers once it is back (failures are not cached)', async () => {
    make({ endpoint: 'http://127.0.0.1:1/introspect' });
    await expectStatus(503);
    make();
    expect(await auth.authenticate('opaque-token', undefined)).toBeDefined();
  });
});

describe('IntrospectionAuthenticator cache', () => {
  it('answers repeated and concurrent look-ups of one token with one request', async () => {
    await Promise.all(Array.from({ length: 10 }, () => auth.authenticate('tok', undefined)));
    await auth.authenticate('tok', undefined);
    expect(seen).toHaveLength(1);
    expect(auth.stats()).toMatchObject({ requests: 1, cacheHits: 1 });
    await auth.authenticate('other', undefined);
    expect(seen).toHaveLength(2);
  });

  it('keeps an active answer for cache_ttl', async () => {
    make({ cache_ttl: 30_000 });
    await auth.authenticate('tok', undefined);
    t += 29_000;
    await auth.authenticate('tok', undefined);
    expect(seen).toHaveLength(1);
    t += 1_000;
    await auth.authenticate('tok', undefined);
    expect(seen).toHaveLength(2);
  });

  it('never keeps an active answer past the token exp', async () => {
    answer = (res) => json(active({ exp: nowS() + 5 }))(res);
    await auth.authenticate('tok', undefined);
    t += 5_000;
    answer = (res) => json({ active: false })(res);
    await expectStatus(401, 'tok');
    expect(seen).toHaveLength(2);
  });

  it('keeps an inactive answer briefly (min(cache_ttl, 10 s))', async () => {
    answer = (res) => json({ active: false })(res);
    await expectStatus(401, 'tok');
    t += 9_000;
    await expectStatus(401, 'tok');
    expect(seen).toHaveLength(1);
    t += 1_000;
    answer = (res) => json(active())(res);
    expect(await auth.authenticate('tok', undefined)).toBeDefined();
    expect(seen).toHaveLength(2);
  });

  it('does not cache with cache_ttl 0', async () => {
    make({ cache_ttl: 0 });
    await auth.authenticate('tok', undefined);
    await auth.authenticate('tok', undefined);
    expect(seen).toHaveLength(2);
  });
});
