/**
 * SPEC.md section 4, row by row, against a started gateway and a recording upstream: status, WWW-Authenticate,
 * JSON body, Cache-Control, and whether the upstream received anything.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SECRETS, standardConfig } from '../helpers/fixtures.js';
import { getToken, send, type RawResponse } from '../helpers/http.js';
import { startRecordingUpstream, type RecordingUpstream } from '../helpers/recording-upstream.js';
import { startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

let upstream: RecordingUpstream;
let gw: TestGateway;
let posToken: string;
let berlinToken: string;

beforeAll(async () => {
  upstream = await startRecordingUpstream();
  gw = await startTestGateway(await standardConfig({ upstream: upstream.url }));
  posToken = (await getToken(gw.url, 'pos', SECRETS.posSecret)).access_token as string;
  berlinToken = (await getToken(gw.url, 'booking', SECRETS.bookingSecret, { organization_id: 'rest-berlin' }))
    .access_token as string;
});
afterAll(async () => {
  await gw?.close();
  await upstream?.close();
});
beforeEach(() => {
  upstream.requests.length = 0;
});

function expectOAuthError(res: RawResponse, status: number, error: string) {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toBe('application/json');
  expect(res.headers['cache-control']).toBe('no-store');
  const body = res.json();
  expect(body.error).toBe(error);
  expect(typeof body.error_description).toBe('string');
}

const metadata = 'resource_metadata="http://gateway.test/.well-known/oauth-protected-resource"';

describe('401 without credentials', () => {
  it('challenges with realm and no error attribute; body says invalid_token; nothing forwarded', async () => {
    const res = await send(gw.url, 'GET', '/api/menu');
    expectOAuthError(res, 401, 'invalid_token');
    expect(res.headers['www-authenticate']).toBe(`Bearer realm="restaurant-api", ${metadata}`);
    expect(upstream.requests).toHaveLength(0);
  });

  it('treats another scheme (Basic) as no credentials', async () => {
    const res = await send(gw.url, 'GET', '/api/menu', ['Authorization', 'Basic dXNlcjpwYXNz']);
    expectOAuthError(res, 401, 'invalid_token');
    expect(res.headers['www-authenticate']).not.toContain('error=');
    expect(upstream.requests).toHaveLength(0);
  });
});

describe('401 for a bad token or API key', () => {
  const cases: [string, string[]][] = [
    ['garbage bearer', ['Authorization', 'Bearer not-a-token']],
    ['JWT-shaped garbage', ['Authorization', 'Bearer eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJ4In0.c2ln']],
    ['unknown API key', ['X-Api-Key', 'no-such-key-0123456789abcdef']],
  ];
  for (const [name, headers] of cases) {
    it(name, async () => {
      const res = await send(gw.url, 'GET', '/api/menu', headers);
      expectOAuthError(res, 401, 'invalid_token');
      const challenge = res.headers['www-authenticate'] as string;
      expect(challenge).toMatch(/^Bearer realm="restaurant-api", error="invalid_token", error_description="[^"]+", /);
      expect(challenge).toContain(metadata);
      expect(upstream.requests).toHaveLength(0);
    });
  }

  it('a token with a tampered signature', async () => {
    const [h, p, s] = posToken.split('.');
    const flipped = `${h}.${p}.${s!.startsWith('A') ? 'B' : 'A'}${s!.slice(1)}`;
    const res = await send(gw.url, 'GET', '/api/menu', ['Authorization', `Bearer ${flipped}`]);
    expectOAuthError(res, 401, 'invalid_token');
    expect(upstream.requests).toHaveLength(0);
  });
});

describe('401 for a wrong client id or secret', () => {
  it('body invalid_client, challenge invalid_token; unknown id and wrong secret look the same', async () => {
    const wrong = await send(gw.url, 'GET', '/api/menu', [
      'X-Client-Id',
      'pos',
      'X-Client-Secret',
      'wrong-secret-0123456789',
    ]);
    const unknown = await send(gw.url, 'GET', '/api/menu', [
      'X-Client-Id',
      'nobody',
      'X-Client-Secret',
      'wrong-secret-0123456789',
    ]);
    for (const res of [wrong, unknown]) {
      expectOAuthError(res, 401, 'invalid_client');
      expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="restaurant-api", error="invalid_token"/);
    }
    expect(wrong.body).toBe(unknown.body);
    expect(wrong.headers['www-authenticate']).toBe(unknown.headers['www-authenticate']);
    expect(upstream.requests).toHaveLength(0);
  });
});

describe('403 insufficient_scope', () => {
  it('names the required scopes in the challenge', async () => {
    const res = await send(
      gw.url,
      'POST',
      '/api/menu',
      ['Authorization', `Bearer ${posToken}`, 'Content-Type', 'application/json'],
      '{}',
    );
    expectOAuthError(res, 403, 'insufficient_scope');
    expect(res.headers['www-authenticate']).toMatch(
      /^Bearer realm="restaurant-api", error="insufficient_scope", error_description="[^"]+", scope="menu:write", /,
    );
    expect(upstream.requests).toHaveLength(0);
  });

  it('an API key carries only its own scopes', async () => {
    const res = await send(gw.url, 'GET', '/api/orders', ['X-Api-Key', SECRETS.menuKey]);
    expectOAuthError(res, 403, 'insufficient_scope');
    expect(res.headers['www-authenticate']).toContain('scope="orders:read"');
    expect(upstream.requests).toHaveLength(0);
  });

  it('a tenant-bound token for another organization', async () => {
    const res = await send(gw.url, 'GET', '/api/organizations/rest-munich/reservations', [
      'Authorization',
      `Bearer ${berlinToken}`,
    ]);
    expectOAuthError(res, 403, 'insufficient_scope');
    expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="restaurant-api", error="insufficient_scope"/);
    expect(upstream.requests).toHaveLength(0);
  });

  it('an unbound token on a tenant route', async () => {
    const unbound = (await getToken(gw.url, 'booking', SECRETS.bookingSecret)).access_token as string;
    const res = await send(gw.url, 'GET', '/api/organizations/rest-berlin/reservations', [
      'Authorization',
      `Bearer ${unbound}`,
    ]);
    expectOAuthError(res, 403, 'insufficient_scope');
    expect(upstream.requests).toHaveLength(0);
  });
});

describe('400 invalid_request', () => {
  const cases: [string, string, string[]][] = [
    ['two credential methods', '/api/menu', ['Authorization', 'Bearer abc', 'X-Api-Key', 'key-0123456789abcdef']],
    ['two Authorization headers', '/api/menu', ['Authorization', 'Bearer abc', 'Authorization', 'Bearer def']],
    ['an empty Bearer', '/api/menu', ['Authorization', 'Bearer ']],
    ['a malformed Bearer', '/api/menu', ['Authorization', 'Bearer a b c']],
    ['two API keys', '/api/menu', ['X-Api-Key', 'key-a-0123456789abcdef', 'X-Api-Key', 'key-b-0123456789abcdef']],
    ['client id without secret', '/api/menu', ['X-Client-Id', 'pos']],
    ['an access_token in the query', '/api/menu?access_token=abc', []],
    ['an encoded slash', '/api/menu%2f..%2forders', []],
    ['an encoded backslash', '/api/menu/%5c..', []],
    ['an encoded NUL', '/api/menu/%00', []],
    ['malformed percent-encoding', '/api/menu/%zz', []],
  ];
  for (const [name, path, headers] of cases) {
    it(name, async () => {
      const res = await send(gw.url, 'GET', path, headers);
      expectOAuthError(res, 400, 'invalid_request');
      expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="restaurant-api", error="invalid_request"/);
      expect(upstream.requests).toHaveLength(0);
    });
  }
});

describe('404 and 405', () => {
  it('no route: 404 without a challenge, never forwarded', async () => {
    for (const path of ['/nothing', '/api/menus', '/API/menu', '/api/publicity']) {
      const res = await send(gw.url, 'GET', path, ['Authorization', `Bearer ${posToken}`]);
      expectOAuthError(res, 404, 'not_found');
      expect(res.headers['www-authenticate']).toBeUndefined();
    }
    expect(upstream.requests).toHaveLength(0);
  });

  it('a method without a scope entry: 405 with Allow', async () => {
    const res = await send(gw.url, 'DELETE', '/api/orders/1', ['Authorization', `Bearer ${posToken}`]);
    expectOAuthError(res, 405, 'method_not_allowed');
    expect(res.headers.allow).toBe('GET, HEAD, POST');
    expect(upstream.requests).toHaveLength(0);
  });

  it('TRACE is never forwarded, not even on a public route', async () => {
    const res = await send(gw.url, 'TRACE', '/api/public/status');
    expect(res.status).toBe(405);
    expect(upstream.requests).toHaveLength(0);
  });

  it('OPTIONS without CORS needs its own scope entry', async () => {
    const res = await send(gw.url, 'OPTIONS', '/api/menu', ['Authorization', `Bearer ${posToken}`]);
    expect(res.status).toBe(405);
    expect(upstream.requests).toHaveLength(0);
  });
});

describe('502 and 504', () => {
  it('upstream timed out: 504 without internals', async () => {
    upstream.respond(() => undefined); // never answers; the route's upstream timeout is 2s
    try {
      const res = await send(gw.url, 'GET', '/api/public/slow');
      expectOAuthError(res, 504, 'gateway_timeout');
      expect(res.body).not.toMatch(/127\.0\.0\.1|ECONN|socket/i);
    } finally {
      upstream.respond(undefined);
    }
  });

  it('upstream reset: 502 without internals', async () => {
    upstream.respond((_req, res) => res.socket?.destroy());
    try {
      const res = await send(gw.url, 'GET', '/api/public/reset');
      expectOAuthError(res, 502, 'bad_gateway');
      expect(res.body).not.toMatch(/127\.0\.0\.1|ECONN|socket/i);
    } finally {
      upstream.respond(undefined);
    }
  });
});
