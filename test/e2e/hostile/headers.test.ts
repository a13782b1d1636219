/**
 * THREATS.md "Headers": duplicates only visible in rawHeaders, identity headers in every spelling a WSGI/CGI
 * upstream folds together, Connection-named headers, client-address spoofing, hop-by-hop and h2c upgrade fields,
 * header injection. Node's client would merge or refuse some of these, so the worst are sent on a raw socket.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { rawRequest, send } from '../../helpers/http.js';
import type { Recorded } from '../../helpers/recording-upstream.js';
import {
  SECRETS,
  expectError,
  expectNothingForwarded,
  rawJson,
  rawStatus,
  startHostile,
  type Hostile,
} from './harness.js';

let h: Hostile;
beforeAll(async () => {
  h = await startHostile();
});
afterAll(async () => {
  await h?.close();
});
beforeEach(() => {
  h.upstream.requests.length = 0;
});

function only(): Recorded {
  expect(h.upstream.requests).toHaveLength(1);
  return h.upstream.requests[0]!;
}

/** header names the upstream received, lowercased, `_` read as `-` (how WSGI/CGI see them) */
function names(r: Recorded): string[] {
  return r.rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase().replaceAll('_', '-'));
}

function raw(lines: string[], body = ''): string {
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

describe('duplicated and combined credentials: 400 invalid_request, never forwarded', () => {
  const cases: [string, string[]][] = [
    ['two Authorization headers', ['Authorization', `Bearer ${'x'.repeat(10)}`, 'Authorization', 'Bearer yyyyyyyyyy']],
    [
      'two Authorization headers, one valid',
      ['Authorization', `Bearer ${'x'.repeat(10)}`, 'Authorization', 'Bearer VALID'],
    ],
    ['Authorization in two casings', ['authorization', 'Bearer aaaa', 'AUTHORIZATION', 'Bearer bbbb']],
    ['Bearer and Basic side by side', ['Authorization', 'Basic dXNlcjpwYXNz', 'Authorization', 'Bearer aaaa']],
    ['Bearer and X-Api-Key', ['Authorization', 'Bearer aaaa', 'X-Api-Key', SECRETS.menuKey]],
    [
      'X-Api-Key and client secret',
      ['X-Api-Key', SECRETS.menuKey, 'X-Client-Id', 'pos', 'X-Client-Secret', SECRETS.posSecret],
    ],
    ['two X-Api-Key headers', ['X-Api-Key', SECRETS.menuKey, 'x-api-key', SECRETS.fullKey]],
    ['two X-Client-Id headers', ['X-Client-Id', 'pos', 'X-Client-Id', 'booking', 'X-Client-Secret', SECRETS.posSecret]],
    [
      'two X-Client-Secret headers',
      ['X-Client-Id', 'pos', 'X-Client-Secret', 'wrong', 'X-Client-Secret', SECRETS.posSecret],
    ],
    ['X-Client-Secret without X-Client-Id', ['X-Client-Secret', SECRETS.posSecret]],
    ['an empty Authorization', ['Authorization', '']],
    ['Bearer without a token', ['Authorization', 'Bearer']],
    ['Bearer with spaces inside the token', ['Authorization', 'Bearer abc def']],
    ['Bearer and the token separated by a tab', ['Authorization', 'Bearer\tabcdef']],
    ['a token with characters outside b64token', ['Authorization', 'Bearer abc"def']],
    ['an API key with a space', ['X-Api-Key', 'abc def']],
    ['an empty API key', ['X-Api-Key', '']],
  ];
  for (const [name, headers] of cases) {
    it(name, async () => {
      const withValid = headers.map((v) => (v === 'Bearer VALID' ? `Bearer ${h.posToken}` : v));
      const res = await send(h.gw.url, 'GET', '/api/menu', withValid);
      expectError(res, 400, 'invalid_request');
      expect(res.headers['www-authenticate']).toMatch(/error="invalid_request"/);
      expectNothingForwarded(h);
    });
  }

  it('two Authorization headers on a raw socket (the second one valid)', async () => {
    const out = await rawRequest(
      h.gw.url,
      raw([
        'GET /api/menu HTTP/1.1',
        'Host: x',
        'Authorization: Bearer garbage-first',
        `Authorization: Bearer ${h.posToken}`,
        'Connection: close',
      ]),
    );
    expect(rawStatus(out)).toBe(400);
    expect(rawJson(out).error).toBe('invalid_request');
    expectNothingForwarded(h);
  });

  it('an access_token in the query, in any encoding of its name', async () => {
    for (const q of [
      '?access_token=abc',
      '?a=1&access_token=abc',
      '?access%5Ftoken=abc',
      '?access_token',
      '?%61ccess_token=x',
    ]) {
      const res = await send(h.gw.url, 'GET', `/api/menu${q}`);
      expectError(res, 400, 'invalid_request');
    }
    expectNothingForwarded(h);
  });
});

describe('credentials in other spellings or schemes are no credentials', () => {
  it('Basic on a resource route: 401 with a bare challenge', async () => {
    const res = await send(h.gw.url, 'GET', '/api/menu', [
      'Authorization',
      `Basic ${Buffer.from(`pos:${SECRETS.posSecret}`).toString('base64')}`,
    ]);
    expectError(res, 401, 'invalid_token');
    expect(res.headers['www-authenticate']).not.toContain('error=');
    expectNothingForwarded(h);
  });

  it('Proxy-Authorization carrying a valid token is not a credential', async () => {
    const res = await send(h.gw.url, 'GET', '/api/menu', ['Proxy-Authorization', `Bearer ${h.posToken}`]);
    expectError(res, 401, 'invalid_token');
    expectNothingForwarded(h);
  });

  it('X_Api_Key (underscore) is refused on a protected route (400), and is not forwarded from a public one', async () => {
    // issue 11: refused rather than ignored, since an upstream that folds `_` into `-` would read it as a key
    const res = await send(h.gw.url, 'GET', '/api/menu', ['X_Api_Key', SECRETS.menuKey]);
    expectError(res, 400, 'invalid_request');
    expectNothingForwarded(h);
    await send(h.gw.url, 'GET', '/api/public/x', ['X_Api_Key', SECRETS.menuKey, 'X_Client_Secret', SECRETS.posSecret]);
    expect(names(only())).not.toContain('x-api-key');
    expect(names(only())).not.toContain('x-client-secret');
  });
});

describe('identity headers come from the gateway only', () => {
  const spoofed = [
    'X-Auth-Client-Id',
    'admin',
    'x_auth_client_id',
    'admin',
    'X-AUTH-SCOPES',
    'menu:write',
    'X_Auth-Scopes',
    'menu:write',
    'X-Auth_Tenant',
    'rest-munich',
    'X-Auth-Method',
    'api_key',
    'x-auth-anything',
    'x',
  ];

  it('a Bearer caller: exactly the gateway identity, nothing of the client', async () => {
    const res = await send(h.gw.url, 'GET', '/api/menu', ['Authorization', `Bearer ${h.posToken}`, ...spoofed]);
    expect(res.status).toBe(200);
    const r = only();
    expect(
      names(r)
        .filter((n) => n.startsWith('x-auth-'))
        .sort(),
    ).toEqual(['x-auth-client-id', 'x-auth-issuer', 'x-auth-method', 'x-auth-scopes']);
    expect(r.headers['x-auth-client-id']).toBe('pos');
    expect(r.headers['x-auth-scopes']).toBe('menu:read orders:read orders:write');
    expect(r.headers['x-auth-method']).toBe('bearer');
  });

  it('a public route: no X-Auth-* at all', async () => {
    await send(h.gw.url, 'GET', '/api/public/x', spoofed);
    expect(names(only()).filter((n) => n.startsWith('x-auth'))).toEqual([]);
  });

  it('Connection naming the identity headers (any spelling) cannot remove them', async () => {
    const res = await send(h.gw.url, 'GET', '/api/organizations/rest-berlin/reservations', [
      'Authorization',
      `Bearer ${h.berlinToken}`,
      'Connection',
      'X-Auth-Client-Id, x_auth_scopes, X-AUTH-TENANT, X-Auth-Method, X-Forwarded-For, X-Forwarded-Proto, X-Forwarded-Host',
    ]);
    expect(res.status).toBe(200);
    const r = only();
    expect(r.headers['x-auth-client-id']).toBe('booking');
    expect(r.headers['x-auth-tenant']).toBe('rest-berlin');
    expect(r.headers['x-auth-method']).toBe('bearer');
    expect(r.headers['x-auth-scopes']).toBe('reservations:read reservations:write menu:read');
    expect(r.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(r.headers['x-forwarded-proto']).toBe('http');
  });

  it('Connection-named client headers are dropped (RFC 9110 7.6.1), also in `_` spelling', async () => {
    await send(h.gw.url, 'GET', '/api/public/x', [
      'Connection',
      'X-Drop-Me, x_drop_too',
      'X-Drop-Me',
      '1',
      'X-Drop-Too',
      '2',
      'X-Keep',
      '3',
    ]);
    const r = only();
    expect(r.headers['x-drop-me']).toBeUndefined();
    expect(r.headers['x-drop-too']).toBeUndefined();
    expect(r.headers['x-keep']).toBe('3');
  });

  it('a header line injected on a raw socket is just another client header: stripped', async () => {
    const out = await rawRequest(
      h.gw.url,
      raw([
        'GET /api/public/x HTTP/1.1',
        'Host: x',
        'X-Note: a',
        'X-Auth-Client-Id: admin',
        'X_Auth_Scopes: menu:write',
        'Connection: close',
      ]),
    );
    expect(rawStatus(out)).toBe(200);
    expect(names(only()).filter((n) => n.startsWith('x-auth'))).toEqual([]);
  });

  it('CR, LF or NUL inside a header value, and a space before the colon: 400 before anything', async () => {
    for (const bad of [
      'X-Note: a\rX-Auth-Client-Id: admin',
      'X-Note: a\nX-Auth-Client-Id: admin',
      'X-Note: a\0b',
      'X-Auth-Client-Id : admin',
    ]) {
      const out = await rawRequest(h.gw.url, raw(['GET /api/public/x HTTP/1.1', 'Host: x', bad, 'Connection: close']));
      expect(rawStatus(out)).toBe(400);
    }
    expectNothingForwarded(h);
  });

  it('a spoofed identity beyond Node’s 2000-header limit does not reach the upstream either', async () => {
    const filler = Array.from({ length: 2050 }, (_, i) => `a${i % 10}: 1`);
    const out = await rawRequest(
      h.gw.url,
      raw(['GET /api/public/x HTTP/1.1', 'Host: x', ...filler, 'X-Auth-Client-Id: admin', 'Connection: close']),
    );
    // issue 11: more than 200 header fields is 431 before anything else
    expect(rawStatus(out)).toBe(431);
    expectNothingForwarded(h);
  });
});

describe('client address and forwarding headers', () => {
  it('every client-address spelling is replaced by the gateway’s view', async () => {
    await send(h.gw.url, 'GET', '/api/public/x', [
      'X-Forwarded-For',
      '6.6.6.6',
      'X-Forwarded-For',
      '7.7.7.7',
      'X_Forwarded_For',
      '8.8.8.8',
      'Forwarded',
      'for=6.6.6.6;proto=https',
      'X-Real-IP',
      '6.6.6.6',
      'True-Client-IP',
      '6.6.6.6',
      'CF-Connecting-IP',
      '6.6.6.6',
      'X-Client-IP',
      '6.6.6.6',
      'X-Cluster-Client-IP',
      '6.6.6.6',
      'X-Forwarded-Proto',
      'https',
      'X-Forwarded-Port',
      '443',
      'X-Forwarded-Host',
      'admin.internal',
    ]);
    const r = only();
    expect(r.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(r.headers['x-forwarded-proto']).toBe('http');
    expect(r.headers['x-forwarded-host']).toBe(new URL(h.gw.url).host);
    const got = names(r);
    for (const n of [
      'forwarded',
      'x-real-ip',
      'true-client-ip',
      'cf-connecting-ip',
      'x-client-ip',
      'x-cluster-client-ip',
      'x-forwarded-port',
    ]) {
      expect(got).not.toContain(n);
    }
    expect(r.rawHeaders.join('\n')).not.toContain('6.6.6.6');
  });

  it('hop-by-hop fields and the h2c upgrade never reach the upstream', async () => {
    const res = await send(h.gw.url, 'GET', '/api/public/x', [
      'Connection',
      'Upgrade, HTTP2-Settings',
      'Upgrade',
      'h2c',
      'HTTP2-Settings',
      'AAMAAABkAAQAAP__',
      'Keep-Alive',
      'timeout=600',
      'Proxy-Connection',
      'keep-alive',
      'TE',
      'trailers',
      'Proxy-Authorization',
      'Basic Zm9vOmJhcg==',
    ]);
    expect(res.status).toBe(200);
    const got = names(only());
    for (const n of ['upgrade', 'http2-settings', 'keep-alive', 'proxy-connection', 'te', 'proxy-authorization']) {
      expect(got).not.toContain(n);
    }
    h.upstream.requests.length = 0;
    const out = await rawRequest(
      h.gw.url,
      raw(['GET /api/public/x HTTP/1.1', 'Host: x', 'Trailer: X-Auth-Client-Id', 'Connection: close']),
    );
    expect(rawStatus(out)).toBe(200);
    expect(names(only())).not.toContain('trailer');
  });

  it('credentials never reach the upstream: Authorization, X-Api-Key, X-Client-Secret', async () => {
    await send(h.gw.url, 'GET', '/api/orders', ['X-Client-Id', 'pos', 'X-Client-Secret', SECRETS.posSecret]);
    await send(h.gw.url, 'GET', '/api/menu', ['X-Api-Key', SECRETS.menuKey]);
    await send(h.gw.url, 'GET', '/api/menu', ['Authorization', `Bearer ${h.posToken}`]);
    expect(h.upstream.requests).toHaveLength(3);
    for (const r of h.upstream.requests) {
      const text = r.rawHeaders.join('\n');
      for (const s of [SECRETS.posSecret, SECRETS.menuKey, h.posToken]) expect(text).not.toContain(s);
    }
  });

  // RFC 9112 3.2: "A server MUST respond with a 400 to any HTTP/1.1 request message that ... contains more than one
  // Host header field". Node accepts it (and keeps the first), so X-Forwarded-Host and the token endpoint's view of
  // the host may differ from what another hop reads. NOT FIXED here (src/server/gateway.ts is not ours): proposed fix
  // in gateway.ts checkFraming(): count `host` in req.rawHeaders and answer 400 bad_framing when there are two.
  it('two Host headers: 400 (RFC 9112 3.2)', async () => {
    const out = await rawRequest(
      h.gw.url,
      raw(['GET /api/public/x HTTP/1.1', 'Host: a.example', 'Host: b.example', 'Connection: close']),
    );
    expect(rawStatus(out)).toBe(400);
    expectNothingForwarded(h);
  });
});

describe('trusted_proxies: a trusted peer names the client, never past itself', () => {
  it('the client the peer names, then the peer; other client-address headers are dropped', async () => {
    const trusted = await startHostile({
      serverExtra: '  trusted_proxies: [127.0.0.1]\n  failed_auth_limit: 1000000/min',
    });
    try {
      await send(trusted.gw.url, 'GET', '/api/public/x', ['X-Forwarded-For', '6.6.6.6', 'X-Real-IP', '6.6.6.6']);
      const r = trusted.upstream.requests[0]!;
      expect(r.headers['x-forwarded-for']).toBe('6.6.6.6, 127.0.0.1');
      expect(r.headers['x-real-ip']).toBeUndefined();
    } finally {
      await trusted.close();
    }
  });
});

describe('credential headers spelled with "_" (issue 11: WSGI and CGI read X_Client_Id as X-Client-Id)', () => {
  const spellings = [
    'X_Client_Id',
    'x_client_id',
    'X-Client_Id',
    'X_Client-Id',
    'X_Client_Secret',
    'X-Client_Secret',
    'X_Api_Key',
    'x-api_key',
  ];
  for (const name of spellings) {
    it(`${name} next to a valid Bearer token: 400 invalid_request, nothing forwarded`, async () => {
      const res = await send(h.gw.url, 'GET', '/api/menu/1', [
        'Authorization',
        `Bearer ${h.posToken}`,
        name,
        'booking',
      ]);
      expectError(res, 400, 'invalid_request');
      expect(res.json().error_description).toContain(name);
      expectNothingForwarded(h);
    });
    it(`${name} alone on a protected route: 400 invalid_request`, async () => {
      expectError(await send(h.gw.url, 'GET', '/api/menu/1', [name, 'booking']), 400, 'invalid_request');
      expectNothingForwarded(h);
    });
  }

  it('on a public route every "_" spelling of a credential header is stripped, the "-" X-Client-Id kept', async () => {
    const res = await send(h.gw.url, 'GET', '/api/public/x', [
      ...spellings.flatMap((n) => [n, 'booking']),
      'X-Client-Id',
      'named-only',
    ]);
    expect(res.status).toBe(200);
    const r = only();
    const rawNames = r.rawHeaders.filter((_, i) => i % 2 === 0);
    for (const n of rawNames) expect(n.includes('_') && /client|api/i.test(n), n).toBe(false);
    expect(r.headers['x-client-id']).toBe('named-only');
  });

  it('report mode does not forward them either', async () => {
    const report = await startHostile({ mode: 'report' });
    try {
      const res = await send(report.gw.url, 'GET', '/api/menu/1', ['X_Client_Id', 'pos']);
      expectError(res, 400, 'invalid_request');
      expectNothingForwarded(report);
    } finally {
      await report.close();
    }
  });
});

describe('WebDAV Destination is a path override (issue 11)', () => {
  it('is never forwarded, in any spelling, with any method', async () => {
    for (const method of ['COPY', 'MOVE', 'GET', 'POST']) {
      h.upstream.requests.length = 0;
      const res = await send(h.gw.url, method, '/api/public/a', [
        'Destination',
        'http://x/api/menu/secret',
        'destination',
        '/menu',
        'DESTINATION',
        '/menu',
      ]);
      expect(res.status).toBe(200);
      expect(names(only())).not.toContain('destination');
    }
  });
});
