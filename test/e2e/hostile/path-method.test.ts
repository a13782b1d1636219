/**
 * THREATS.md "Path and method confusion": the gateway decides on exactly the path and method the upstream acts on.
 * Cases collected from gateway advisories (Envoy %2F and `;` handling, Istio/Envoy path normalization, Traefik and
 * APISIX `..;` and double-encoding, Caddy case and trailing-dot matching, Spring/Tomcat `;` parameters, IIS/.NET
 * Unicode best-fit mapping, Symfony X-Original-URL) and from the SPEC: no request may match a weaker route at the
 * gateway and reach a stronger resource upstream.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { rawRequest, send } from '../../helpers/http.js';
import { SECRETS, expectError, expectNothingForwarded, rawStatus, startHostile, type Hostile } from './harness.js';

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

describe('escapes from a public route into a protected one', () => {
  // Each target tries to be matched under /api/public/** (auth: none) while naming /api/menu upstream.
  const refused400: [string, string][] = [
    ['..;/ (Tomcat/Jetty path parameter)', '/api/public/..;/menu'],
    ['.;/ then ..', '/api/public/.;/../menu'],
    ['%2e%2e; (encoded dots with a parameter)', '/api/public/%2e%2e;x/menu'],
    ['encoded slash inside a dot escape', '/api/public/..%2fmenu'],
    ['lowercase encoded slash', '/api/public/%2e%2e%2fmenu'],
    ['encoded backslash', '/api/public/..%5cmenu'],
    ['double-encoded dots %252e%252e', '/api/public/%252e%252e/menu'],
    ['double-encoded slash %252f', '/api/public/..%252fmenu'],
    ['triple-encoded dots %25252e', '/api/public/%25252e%25252e/menu'],
    ['overlong UTF-8 dots %c0%ae', '/api/public/%c0%ae%c0%ae/menu'],
    ['overlong UTF-8 slash %c0%af', '/api/public/..%c0%afmenu'],
    ['fullwidth dots U+FF0E', '/api/public/%ef%bc%8e%ef%bc%8e/menu'],
    ['one-dot leaders U+2024', '/api/public/%e2%80%a4%e2%80%a4/menu'],
    ['fullwidth solidus U+FF0F', '/api/public/..%ef%bc%8fmenu'],
    ['fullwidth reverse solidus U+FF3C', '/api/public/..%ef%bc%bcmenu'],
    ['encoded NUL', '/api/public/%00/../menu'],
    ['encoded CR LF (header injection through the path)', '/api/public/%0d%0aX-Auth-Client-Id:%20pos'],
    ['truncated escape', '/api/public/%2'],
    ['non-hex escape', '/api/public/%g0'],
    ['lone percent', '/api/public/%'],
    ['invalid UTF-8', '/api/public/%ff%fe'],
  ];
  for (const [name, target] of refused400) {
    it(`400: ${name}`, async () => {
      const res = await send(h.gw.url, 'GET', target);
      expectError(res, 400, 'invalid_request');
      expect(res.headers['www-authenticate']).toMatch(/error="invalid_request"/);
      expectNothingForwarded(h);
    });
  }

  const resolvedToProtected: [string, string][] = [
    ['plain ..', '/api/public/../menu'],
    ['%2e%2e', '/api/public/%2e%2e/menu'],
    ['.%2E', '/api/public/.%2E/menu'],
    ['%2E.', '/api/public/%2E./menu'],
    ['; on the segment before ..', '/api/public;x/../menu'],
    ['./ then ..', '/api/public/./../menu/'],
    ['.. with // around', '/api//public//..//menu'],
    ['dot-dot at the end', '/api/public/x/../../menu/1'],
  ];
  for (const [name, target] of resolvedToProtected) {
    it(`401: ${name} resolves to the protected route before matching`, async () => {
      const res = await send(h.gw.url, 'GET', target);
      expectError(res, 401, 'invalid_token');
      expectNothingForwarded(h);
    });
  }

  it('with credentials, the resolved path is what the upstream receives', async () => {
    const res = await send(h.gw.url, 'GET', '/api/public/%2e%2e/menu/./1', ['Authorization', `Bearer ${h.posToken}`]);
    expect(res.status).toBe(200);
    expect(h.upstream.requests.map((r) => r.url)).toEqual(['/menu/1']);
  });
});

describe('matching is exact, case-sensitive and on segment boundaries', () => {
  const notFound: [string, string][] = [
    ['prefix without a segment boundary', '/api/publicity'],
    ['uppercase prefix', '/API/public/x'],
    ['mixed case segment', '/api/Public/x'],
    ['path parameter on the route segment', '/api/public;jsessionid=1/x'],
    ['escape above the root into nothing', '/api/public/../../../../etc/passwd'],
    ['encoded unreserved letters still match case-sensitively', '/api/%50ublic/x'],
  ];
  for (const [name, target] of notFound) {
    it(`404: ${name}`, async () => {
      const res = await send(h.gw.url, 'GET', target);
      expectError(res, 404, 'not_found');
      expect(res.headers['www-authenticate']).toBeUndefined();
      expectNothingForwarded(h);
    });
  }

  it('400 (issue 11; 404 before): a trailing dot or encoded space, which Windows, IIS and Caddy fold', async () => {
    for (const target of ['/api/public./x', '/api/public%20/x']) {
      expectError(await send(h.gw.url, 'GET', target), 400, 'invalid_request');
    }
    expectNothingForwarded(h);
  });

  it('a leading // is merged, not read as a network path', async () => {
    const res = await send(h.gw.url, 'GET', '//api/public/x');
    expect(res.status).toBe(200);
    expect(h.upstream.requests.map((r) => r.url)).toEqual(['/public/x']);
  });

  it('unreserved characters are decoded before matching and forwarded decoded', async () => {
    const res = await send(h.gw.url, 'GET', '/api/%70ublic/%7Ex');
    expect(res.status).toBe(200);
    expect(h.upstream.requests.map((r) => r.url)).toEqual(['/public/~x']);
  });
});

describe('the query never routes', () => {
  it('/api/public?/../menu stays on the public path; the query is forwarded raw', async () => {
    const res = await send(h.gw.url, 'GET', '/api/public?/../menu');
    expect(res.status).toBe(200);
    expect(h.upstream.requests.map((r) => r.url)).toEqual(['/public?/../menu']);
  });

  it('a protected path with a public-looking query still needs credentials', async () => {
    const res = await send(h.gw.url, 'GET', '/api/menu?/../public/x');
    expectError(res, 401, 'invalid_token');
    expectNothingForwarded(h);
  });

  it('an encoded ? in the path is a path character, not the start of a query', async () => {
    const res = await send(h.gw.url, 'GET', '/api/public/a%3F/../../menu');
    expectError(res, 401, 'invalid_token');
    expectNothingForwarded(h);
  });

  it('a fragment in the request target is refused (raw socket: clients strip it)', async () => {
    const out = await rawRequest(
      h.gw.url,
      'GET /api/public/x#/../../menu HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    );
    expect(rawStatus(out)).toBe(400);
    expectNothingForwarded(h);
  });
});

describe('tenant path parameters', () => {
  it('an encoded unreserved character in :org is compared decoded and forwarded canonical', async () => {
    const res = await send(h.gw.url, 'GET', '/api/organizations/rest%2Dberlin/reservations', [
      'Authorization',
      `Bearer ${h.berlinToken}`,
    ]);
    expect(res.status).toBe(200);
    expect(h.upstream.requests.map((r) => r.url)).toEqual(['/organizations/rest-berlin/reservations']);
  });

  it('case does not fold: REST-BERLIN is another tenant', async () => {
    const res = await send(h.gw.url, 'GET', '/api/organizations/REST-BERLIN/reservations', [
      'Authorization',
      `Bearer ${h.berlinToken}`,
    ]);
    expectError(res, 403, 'insufficient_scope');
    expectNothingForwarded(h);
  });

  it('dot segments that walk from one tenant to another are resolved first: the upstream gets the checked one', async () => {
    const res = await send(
      h.gw.url,
      'GET',
      '/api/organizations/rest-munich/reservations/../../rest-berlin/reservations',
      ['Authorization', `Bearer ${h.berlinToken}`],
    );
    expect(res.status).toBe(200);
    expect(h.upstream.requests.map((r) => r.url)).toEqual(['/organizations/rest-berlin/reservations']);
  });

  it('walking into another tenant is a 403', async () => {
    const res = await send(
      h.gw.url,
      'GET',
      '/api/organizations/rest-berlin/reservations/../../rest-munich/reservations',
      ['Authorization', `Bearer ${h.berlinToken}`],
    );
    expectError(res, 403, 'insufficient_scope');
    expectNothingForwarded(h);
  });

  it('an encoded slash inside :org is refused', async () => {
    const res = await send(h.gw.url, 'GET', '/api/organizations/rest-berlin%2f..%2frest-munich/reservations', [
      'Authorization',
      `Bearer ${h.berlinToken}`,
    ]);
    expectError(res, 400, 'invalid_request');
    expectNothingForwarded(h);
  });
});

describe('methods', () => {
  it('X-HTTP-Method-Override and kin never reach the upstream: a read stays a read', async () => {
    const res = await send(h.gw.url, 'GET', '/api/orders/1', [
      'Authorization',
      `Bearer ${h.posToken}`,
      'X-HTTP-Method-Override',
      'DELETE',
      'X-HTTP-Method',
      'DELETE',
      'X-Method-Override',
      'DELETE',
      'X_HTTP_Method_Override',
      'DELETE',
      'X-Original-Method',
      'DELETE',
      'X-Forwarded-Method',
      'DELETE',
    ]);
    expect(res.status).toBe(200);
    const r = h.upstream.requests[0]!;
    expect(r.method).toBe('GET');
    const names = r.rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase().replaceAll('_', '-'));
    expect(names.filter((n) => n.includes('method'))).toEqual(['x-auth-method']);
  });

  it('an override that claims a read does not make a write pass as one: decided on POST', async () => {
    const res = await send(
      h.gw.url,
      'POST',
      '/api/menu',
      ['X-Api-Key', SECRETS.menuKey, 'X-HTTP-Method-Override', 'GET'],
      '{}',
    );
    expectError(res, 403, 'insufficient_scope');
    expectNothingForwarded(h);
  });

  it('a method without a scope entry is 405 with Allow, never forwarded', async () => {
    const res = await send(h.gw.url, 'DELETE', '/api/orders/1', ['Authorization', `Bearer ${h.posToken}`]);
    expectError(res, 405, 'method_not_allowed');
    expect(res.headers.allow).toBe('GET, HEAD, POST');
    expectNothingForwarded(h);
  });

  it('TRACE is never forwarded, with or without credentials', async () => {
    expectError(await send(h.gw.url, 'TRACE', '/api/public/x'), 405, 'method_not_allowed');
    expectError(
      await send(h.gw.url, 'TRACE', '/api/menu', ['Authorization', `Bearer ${h.posToken}`]),
      405,
      'method_not_allowed',
    );
    expectNothingForwarded(h);
  });

  it('CONNECT is never forwarded', async () => {
    const out = await rawRequest(h.gw.url, 'CONNECT /api/public/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect([0, 400, 405]).toContain(rawStatus(out));
    expectNothingForwarded(h);
  });

  it('an encoded tab in a segment is a control character: 400', async () => {
    expectError(await send(h.gw.url, 'GET', '/api/public%09/x'), 400, 'invalid_request');
    expectNothingForwarded(h);
  });

  it('a lowercase or unknown method is a framing error (raw socket)', async () => {
    for (const line of ['delete /api/orders/1 HTTP/1.1', 'Get /api/menu HTTP/1.1', 'FOO /api/public/x HTTP/1.1']) {
      const out = await rawRequest(h.gw.url, `${line}\r\nHost: x\r\nConnection: close\r\n\r\n`);
      expect(rawStatus(out)).toBe(400);
    }
    expectNothingForwarded(h);
  });

  it('HEAD is a read and is forwarded as HEAD', async () => {
    const res = await send(h.gw.url, 'HEAD', '/api/menu', ['X-Api-Key', SECRETS.menuKey]);
    expect(res.status).toBe(200);
    expect(h.upstream.requests.map((r) => r.method)).toEqual(['HEAD']);
  });

  it('OPTIONS without CORS needs its own scope entry', async () => {
    expectError(
      await send(h.gw.url, 'OPTIONS', '/api/menu', ['X-Api-Key', SECRETS.menuKey]),
      405,
      'method_not_allowed',
    );
    expectNothingForwarded(h);
  });
});

describe('path override headers (Symfony X-Original-URL, Traefik X-Forwarded-Uri, Spring X-Forwarded-Prefix)', () => {
  it('none reaches the upstream from a public route', async () => {
    const overrides = [
      'X-Original-URL',
      'X-Rewrite-URL',
      'X-Original-URI',
      'X-Override-URL',
      'X-Forwarded-Prefix',
      'X-Forwarded-Uri',
      'X-Forwarded-Path',
      'X-Envoy-Original-Path',
      'X_Original_URL',
    ];
    const res = await send(
      h.gw.url,
      'GET',
      '/api/public/x',
      overrides.flatMap((n) => [n, '/menu']),
    );
    expect(res.status).toBe(200);
    const r = h.upstream.requests[0]!;
    const names = r.rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase().replaceAll('_', '-'));
    for (const n of overrides) expect(names).not.toContain(n.toLowerCase().replaceAll('_', '-'));
    expect(r.url).toBe('/public/x');
  });
});

describe('segments an upstream that trims dots and spaces reads as dot segments (issue 11)', () => {
  // Windows path APIs, IIS and others drop trailing dots and spaces in a segment: `..%20` and `...` are `..` there.
  const shapes = [
    '..%20',
    '.%20',
    '...',
    '....',
    '%20..',
    '..%20%20',
    '..%C2%A0',
    '..%E3%80%80',
    '..%E2%80%8A',
    '..%E2%80%8B',
    '.%20.',
    '..%2520',
    '%EF%BC%8E%EF%BC%8E%20',
  ];
  for (const shape of shapes) {
    it(`400: ${shape} from a public route`, async () => {
      const res = await send(h.gw.url, 'GET', `/api/public/${shape}/menu`);
      expectError(res, 400, 'invalid_request');
      expectNothingForwarded(h);
    });
    it(`400: ${shape} across a tenant_param segment, with a valid token for the first tenant`, async () => {
      const res = await send(
        h.gw.url,
        'GET',
        `/api/organizations/rest-berlin/reservations/${shape}/${shape}/rest-munich/reservations/1`,
        ['Authorization', `Bearer ${h.berlinToken}`],
      );
      expectError(res, 400, 'invalid_request');
      expectNothingForwarded(h);
    });
  }
});

describe('bounded paths (issue 11: matching work bounded by the request)', () => {
  const many = (n: number) => Array.from({ length: n }, (_, i) => `s${i % 10}`).join('/');

  it('4,000 segments (8 KB) on a public route: 414, nothing forwarded', async () => {
    const res = await send(h.gw.url, 'GET', `/api/public/${many(4000)}`);
    expectError(res, 414, 'invalid_request');
    expectNothingForwarded(h);
  });

  it('129 segments: 414; 128 segments still route', async () => {
    expectError(await send(h.gw.url, 'GET', `/api/public/${many(127)}`), 414, 'invalid_request');
    expectNothingForwarded(h);
    const ok = await send(h.gw.url, 'GET', `/api/public/${many(126)}`);
    expect(ok.status).toBe(200);
    expect(h.upstream.requests).toHaveLength(1);
  });

  it('dot segments do not hide the count, and a protected route answers 414 before asking for credentials', async () => {
    expectError(await send(h.gw.url, 'GET', `/api/public${'/a/..'.repeat(70)}/x`), 414, 'invalid_request');
    expectError(await send(h.gw.url, 'GET', `/api/menu/${many(200)}`), 414, 'invalid_request');
    expectNothingForwarded(h);
  });

  it('a path over 4096 characters: 414; a long query is not counted', async () => {
    expectError(await send(h.gw.url, 'GET', `/api/public/${'x'.repeat(4100)}`), 414, 'invalid_request');
    expectNothingForwarded(h);
    const ok = await send(h.gw.url, 'GET', `/api/public/x?q=${'y'.repeat(6000)}`);
    expect(ok.status).toBe(200);
  });
});

describe('segments an upstream trims into a protected literal (issue 11: admin. and admin%20 are admin on IIS)', () => {
  // A protected literal route before a public route with a parameter: `/api/admin./info` misses the first and
  // matches the second at the gateway, while an upstream that trims trailing dots or spaces serves /api/admin/info.
  let t: Hostile;
  beforeAll(async () => {
    t = await startHostile({
      extraRoutes: `  - path: /api/admin/**
    upstream: restaurant
    scopes: [admin:read]
  - path: /api/:section/info
    upstream: restaurant
    auth: none
`,
    });
  });
  afterAll(async () => {
    await t?.close();
  });
  beforeEach(() => {
    t.upstream.requests.length = 0;
  });

  it('control: /api/admin/info is protected, /api/about/info is public', async () => {
    expectError(await send(t.gw.url, 'GET', '/api/admin/info'), 401, 'invalid_token');
    expect((await send(t.gw.url, 'GET', '/api/about/info')).status).toBe(200);
  });

  for (const seg of [
    'admin.',
    'admin..',
    'admin%2E',
    'admin%20',
    'admin%20.',
    '%20admin',
    'admin%C2%A0',
    'admin%E3%80%80',
    'admin%E2%80%8B',
    'admin%EF%BC%8E',
  ]) {
    it(`400: /api/${seg}/info, nothing forwarded`, async () => {
      expectError(await send(t.gw.url, 'GET', `/api/${seg}/info`), 400, 'invalid_request');
      expectNothingForwarded(t);
    });
  }
});
