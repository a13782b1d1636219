import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, type ConfigProblem } from '../../src/config/config-error.js';
import { loadConfigFile, parseConfig } from '../../src/config/load-config.js';

const SECRET_HASH = 'scrypt$16384$8$1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA';
const KEY_HASH = `sha256:${'ab'.repeat(32)}`;
const ENV = { ADMIN_TOKEN: 'admin-token-0123456789', INTROSPECTION_SECRET: 'introspection-secret' };

/** SPEC.md section 2's example, with real-looking hashes. */
const SPEC_EXAMPLE = `server:
  listen: 127.0.0.1:8080
  admin_listen: 127.0.0.1:9901      # /healthz /readyz /metrics, admin API; never on the public port
  realm: restaurant-api             # realm in WWW-Authenticate
  admin_token: \${ADMIN_TOKEN}       # Bearer token for the admin API on admin_listen
  failed_auth_limit: 20/min         # failed credential checks per address and per client id, then 429
  mode: enforce                     # enforce | report (log would-be denials, forward anyway)
  cors: { origins: [https://partner.example] }   # optional; the gateway answers preflights

issuer:                              # built-in authorization server; omit to disable
  issuer: http://127.0.0.1:8080      # "iss" of the tokens it signs
  audience: restaurant-api           # "aud" of the tokens it signs
  token_paths: [/oauth/token]        # e.g. also /v1/security/oauth2/token for drop-in clients
  keys: ./config/keys                # private JWKs; a new ES256 key is generated there if empty
  access_token_ttl: 30m
  refresh_token_ttl: 30d
  tenant_parameter: organization_id  # token request parameter bound into the token as claim "tenant"

trusted_issuers:                     # external identity providers whose JWTs are accepted
  - issuer: https://idp.example.com/
    jwks_uri: https://idp.example.com/.well-known/jwks.json
    audience: restaurant-api
    algorithms: [RS256, ES256]
    scope_claim: scope               # default: \`scope\` (a string), then \`scp\` (string or array)

introspection:                       # opaque tokens, RFC 7662 (optional)
  endpoint: https://idp.example.com/oauth/introspect
  client_id: gateway
  client_secret: \${INTROSPECTION_SECRET}
  cache_ttl: 60s
  timeout: 5s

store: sqlite:./data/scopegate.db    # embedded default; redis://host:6379 to share state between instances

clients:
  - id: pos-partner
    name: POS Partner GmbH
    secret_hash: "${SECRET_HASH}"
    scopes: [menu:read, orders:read, orders:write]
    tenants: [rest-berlin, rest-munich]   # organizations it may act for; omitted = no tenant binding
    refresh_tokens: true
    expires_at: 2027-06-30T00:00:00Z  # its credentials stop working then
    rate_limit: 50/s
    api_keys:
      - hash: "${KEY_HASH}"
        scopes: [menu:read]          # a key carries at most its client's scopes

upstreams:
  restaurant:
    url: http://127.0.0.1:3000
    timeout: 15s

routes:                              # first match wins
  - path: /api/menu/**
    upstream: restaurant
    strip_prefix: /api
    scopes:
      read: [menu:read]              # GET, HEAD
      write: [menu:write]            # POST, PUT, PATCH, DELETE
  - path: /api/organizations/:org/reservations/**
    upstream: restaurant
    tenant_param: org                # the token's tenant must equal :org
    scopes: { GET: [reservations:read], POST: [reservations:write] }
  - path: /api/public/**
    upstream: restaurant
    auth: none
    max_body: 10mb
`;

/** The ConfigError that parsing `text` throws. */
function problemsOf(text: string, env: NodeJS.ProcessEnv = ENV): { error: ConfigError; problems: ConfigProblem[] } {
  try {
    parseConfig(text, 'gateway.yaml', { env });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return { error, problems: error.problems };
  }
  throw new Error('expected a ConfigError');
}

/** The one problem that parsing `text` reports. */
function problemOf(text: string, env?: NodeJS.ProcessEnv): ConfigProblem {
  const { problems } = problemsOf(text, env);
  expect(problems, JSON.stringify(problems)).toHaveLength(1);
  return problems[0]!;
}

/** A minimal valid config plus `extra` YAML. */
const withRoutes = (routes: string, extra = '') =>
  `upstreams:\n  restaurant: { url: http://127.0.0.1:3000 }\n${extra}routes:\n${routes}`;

describe('parseConfig: the SPEC example', () => {
  const config = parseConfig(SPEC_EXAMPLE, 'gateway.yaml', { env: ENV });

  it('reads the server section, with units converted', () => {
    expect(config.server).toEqual({
      listen: '127.0.0.1:8080',
      admin_listen: '127.0.0.1:9901',
      realm: 'restaurant-api',
      admin_token: ENV.ADMIN_TOKEN,
      failed_auth_limit: { limit: 20, windowMs: 60_000 },
      mode: 'enforce',
      trusted_proxies: [],
      workers: 1,
      cors: { origins: ['https://partner.example'], max_age: 600_000 },
    });
  });

  it('reads the issuer, with durations in ms', () => {
    expect(config.issuer).toEqual({
      issuer: 'http://127.0.0.1:8080',
      audience: 'restaurant-api',
      token_paths: ['/oauth/token'],
      keys: './config/keys',
      access_token_ttl: 30 * 60_000,
      refresh_token_ttl: 30 * 86_400_000,
      tenant_parameter: 'organization_id',
    });
  });

  it('reads trusted issuers and introspection, with defaults filled in', () => {
    expect(config.trusted_issuers).toEqual([
      {
        issuer: 'https://idp.example.com/',
        jwks_uri: 'https://idp.example.com/.well-known/jwks.json',
        audience: 'restaurant-api',
        algorithms: ['RS256', 'ES256'],
        scope_claim: 'scope',
        tenant_claim: 'tenant',
        token_types: ['absent', 'JWT', 'at+jwt'],
        max_lifetime: 86_400_000,
      },
    ]);
    expect(config.introspection).toEqual({
      endpoint: 'https://idp.example.com/oauth/introspect',
      client_id: 'gateway',
      client_secret: ENV.INTROSPECTION_SECRET,
      cache_ttl: 60_000,
      timeout: 5_000,
    });
    expect(config.store).toBe('sqlite:./data/scopegate.db');
  });

  it('reads clients: expires_at to ms, 50/s as a rate, api keys', () => {
    expect(config.clients).toEqual([
      {
        id: 'pos-partner',
        name: 'POS Partner GmbH',
        secret_hash: SECRET_HASH,
        scopes: ['menu:read', 'orders:read', 'orders:write'],
        tenants: ['rest-berlin', 'rest-munich'],
        refresh_tokens: true,
        expires_at: Date.UTC(2027, 5, 30),
        rate_limit: { limit: 50, windowMs: 1000 },
        api_keys: [{ hash: KEY_HASH, scopes: ['menu:read'] }],
      },
    ]);
  });

  it('reads upstreams and routes, max_body in bytes', () => {
    expect(config.upstreams).toEqual({ restaurant: { url: 'http://127.0.0.1:3000', timeout: 15_000 } });
    expect(config.routes).toEqual([
      {
        path: '/api/menu/**',
        upstream: 'restaurant',
        strip_prefix: '/api',
        scopes: { read: ['menu:read'], write: ['menu:write'] },
      },
      {
        path: '/api/organizations/:org/reservations/**',
        upstream: 'restaurant',
        tenant_param: 'org',
        scopes: { GET: ['reservations:read'], POST: ['reservations:write'] },
      },
      { path: '/api/public/**', upstream: 'restaurant', auth: 'none', max_body: 10 * 1024 * 1024 },
    ]);
  });
});

describe('parseConfig: defaults', () => {
  it('an empty file is a config with every default', () => {
    for (const text of ['', '# nothing\n', '{}\n']) {
      const config = parseConfig(text, 'gateway.yaml', { env: {} });
      expect(config).toEqual({
        server: {
          listen: '127.0.0.1:8080',
          realm: 'scopegate',
          failed_auth_limit: { limit: 20, windowMs: 60_000 },
          mode: 'enforce',
          trusted_proxies: [],
          workers: 1,
        },
        trusted_issuers: [],
        store: 'sqlite:./data/scopegate.db',
        admin: {
          tokens: [],
          secret_ttl: 90 * 86_400_000,
          secret_max_ttl: 365 * 86_400_000,
          rotation_overlap: 7 * 86_400_000,
        },
        store_options: { prefix: 'scopegate:', command_timeout: 50, stale_max: 60_000 },
        clients: [],
        upstreams: {},
        routes: [],
        allow_no_routes: false,
      });
    }
  });

  it('for a config that will serve (start, reload, check), no routes is an error unless allow_no_routes', () => {
    for (const text of ['', '# nothing\n', 'server:\n  realm: x\n']) {
      expect(() => parseConfig(text, 'gateway.yaml', { env: {}, serving: true })).toThrow(
        /^gateway\.yaml:1:1 routes: no routes: every request would be 404/,
      );
    }
    expect(parseConfig('allow_no_routes: true\n', 'gateway.yaml', { env: {}, serving: true }).routes).toEqual([]);
  });

  it('fills issuer, client and upstream defaults', () => {
    const config = parseConfig(
      `issuer: { issuer: https://gw.example, audience: api }\nclients:\n  - id: c1\nupstreams:\n  u: { url: http://u }\n`,
      'gateway.yaml',
      { env: {} },
    );
    expect(config.issuer).toMatchObject({
      token_paths: ['/oauth/token'],
      keys: './config/keys',
      access_token_ttl: 1_800_000,
      refresh_token_ttl: 2_592_000_000,
      tenant_parameter: 'organization_id',
    });
    expect(config.clients[0]).toEqual({ id: 'c1', scopes: [], refresh_tokens: false, api_keys: [] });
    expect(config.upstreams.u!.timeout).toBe(15_000);
  });

  it('expires_at accepts an offset and converts to epoch ms', () => {
    const config = parseConfig(`clients:\n  - id: c1\n    expires_at: 2027-06-30T02:00:00+02:00\n`, 'g.yaml', {
      env: {},
    });
    expect(config.clients[0]!.expires_at).toBe(Date.UTC(2027, 5, 30));
  });
});

describe('parseConfig: ${ENV} substitution', () => {
  it('replaces ${NAME} anywhere in a string', () => {
    const config = parseConfig(`upstreams:\n  r: { url: "http://\${HOST}:\${PORT}/base" }\n`, 'g.yaml', {
      env: { HOST: 'backend', PORT: '3000' },
    });
    expect(config.upstreams.r!.url).toBe('http://backend:3000/base');
  });

  it('a missing variable names the key, line and column, and the variable', () => {
    const text = `server:\n  realm: r\n  admin_token: \${ADMIN_TOKEN}\n`;
    const { error, problems } = problemsOf(text, {});
    expect(problems).toEqual([
      {
        file: 'gateway.yaml',
        line: 3,
        col: 16,
        key: 'server.admin_token',
        message: 'environment variable ADMIN_TOKEN is not set',
      },
    ]);
    expect(error.message).toBe('gateway.yaml:3:16 server.admin_token: environment variable ADMIN_TOKEN is not set');
  });

  it('an empty variable is set (to the empty string), and then checked like any value', () => {
    const p = problemOf(`server:\n  admin_token: \${ADMIN_TOKEN}\n`, { ADMIN_TOKEN: '' });
    expect(p).toMatchObject({ line: 2, col: 16, key: 'server.admin_token', message: 'use at least 16 characters' });
  });

  it('reports every missing variable, inside lists too', () => {
    const { problems } = problemsOf(
      `clients:\n  - id: c1\n    secret: \${C1_SECRET}\n    scopes:\n      - \${SCOPE_A}\n      - b\n`,
      {},
    );
    expect(problems.map((p) => [p.line, p.col, p.key, p.message])).toEqual([
      [3, 13, 'clients[0].secret', 'environment variable C1_SECRET is not set'],
      [5, 9, 'clients[0].scopes[0]', 'environment variable SCOPE_A is not set'],
    ]);
  });

  it('$${LITERAL} stays literal', () => {
    const config = parseConfig(`server:\n  realm: "$\${LITERAL} and \${REALM}"\n`, 'g.yaml', { env: { REALM: 'r' } });
    expect(config.server.realm).toBe('${LITERAL} and r');
  });

  it('keys are never substituted, and a value that only looks like a reference stays', () => {
    const config = parseConfig(`upstreams:\n  r: { url: "http://x/$\{nope" }\n`, 'g.yaml', { env: {} });
    expect(config.upstreams.r!.url).toBe('http://x/${nope');
  });
});

describe('parseConfig: YAML errors', () => {
  it('a syntax error names its line and column', () => {
    const { problems, error } = problemsOf(`server:\n  listen: 127.0.0.1:8080\n  cors: { origins: [a }\n`);
    expect(problems[0]).toMatchObject({ file: 'gateway.yaml', line: 3, key: '' });
    expect(problems[0]!.col).toBeGreaterThan(1);
    expect(error.message).toMatch(/^gateway\.yaml:3:\d+ /);
  });

  it('a tab-indented or badly indented block names its line', () => {
    const p = problemsOf(`server:\n  listen: 127.0.0.1:8080\n realm: x\n`).problems[0]!;
    expect(p.line).toBe(3);
  });

  it('a duplicate key is an error that names the key and where it is repeated', () => {
    expect(problemOf(`server:\n  listen: 127.0.0.1:1\n  mode: report\n  listen: 127.0.0.1:2\n`)).toEqual({
      file: 'gateway.yaml',
      line: 4,
      col: 3,
      key: '',
      message: 'duplicate key "listen"',
    });
    expect(problemOf(`clients:\n  - { id: a, id: b }\n`)).toMatchObject({
      line: 2,
      col: 14,
      message: 'duplicate key "id"',
    });
  });

  it('a top level that is not a map is refused', () => {
    expect(problemOf(`- a\n- b\n`)).toMatchObject({ line: 1, col: 1, message: expect.stringMatching(/object/) });
  });
});

describe('parseConfig: unknown keys name the exact key path, line and column', () => {
  it('at the top level', () => {
    expect(problemOf(`server: {}\nroute:\n  - path: /a\n`)).toEqual({
      file: 'gateway.yaml',
      line: 2,
      col: 1,
      key: 'route',
      message: 'unknown key "route"',
    });
  });

  it('in server', () => {
    const { error, problems } = problemsOf(`server:\n  listen: 127.0.0.1:8080\n  admin_tokn: abc\n`);
    expect(problems).toEqual([
      { file: 'gateway.yaml', line: 3, col: 3, key: 'server.admin_tokn', message: 'unknown key "admin_tokn"' },
    ]);
    expect(error.message).toBe('gateway.yaml:3:3 server.admin_tokn: unknown key "admin_tokn"');
  });

  it('the replaced server.trust_forwarded_for names its successor, trusted_proxies (SPEC.md 9)', () => {
    expect(problemOf(`server:\n  trust_forwarded_for: true\n`)).toMatchObject({
      line: 2,
      col: 3,
      key: 'server.trust_forwarded_for',
      message: expect.stringContaining('replaced by "trusted_proxies"') as string,
    });
  });

  it('server.trusted_proxies takes IPv4 and IPv6 addresses and CIDR blocks, nothing else', () => {
    const ok = parseConfig('server:\n  trusted_proxies: [10.0.0.0/8, 192.0.2.7, "fd00::/8", "::1"]\n', 'g.yaml', {
      env: {},
    });
    expect(ok.server.trusted_proxies).toEqual(['10.0.0.0/8', '192.0.2.7', 'fd00::/8', '::1']);
    for (const bad of ['10.0.0.0/33', 'lb.example', '10.0.0/8', '"fd00::/129"', '"10.0.0.1/"']) {
      expect(problemOf(`server:\n  trusted_proxies: [${bad}]\n`)).toMatchObject({
        key: 'server.trusted_proxies[0]',
        message: 'an IP address or CIDR block, e.g. 10.0.0.0/8 or fd00::/8',
      });
    }
  });

  it('in server.cors', () => {
    expect(problemOf(`server:\n  cors: { origins: ['*'], max_ag: 1m }\n`)).toMatchObject({
      line: 2,
      col: 27,
      key: 'server.cors.max_ag',
    });
  });

  it('in a route', () => {
    const text = withRoutes(`  - path: /a\n    auth: none\n  - path: /b\n    scopes: [x]\n    tenant_parm: org\n`);
    expect(problemOf(text)).toEqual({
      file: 'gateway.yaml',
      line: 8,
      col: 5,
      key: 'routes[1].tenant_parm',
      message: 'unknown key "tenant_parm"',
    });
  });

  it('in a client', () => {
    const text = `clients:\n  - id: a\n    scopes: [x]\n  - id: b\n    scope: [x]\n`;
    expect(problemOf(text)).toEqual({
      file: 'gateway.yaml',
      line: 5,
      col: 5,
      key: 'clients[1].scope',
      message: 'unknown key "scope"',
    });
  });

  it('in an api key', () => {
    const text = `clients:\n  - id: a\n    scopes: [x]\n    api_keys:\n      - hash: "${KEY_HASH}"\n        scops: [x]\n`;
    expect(problemOf(text)).toEqual({
      file: 'gateway.yaml',
      line: 6,
      col: 9,
      key: 'clients[0].api_keys[0].scops',
      message: 'unknown key "scops"',
    });
  });

  it('in an upstream, under a name of the operator’s choosing', () => {
    expect(problemOf(`upstreams:\n  restaurant:\n    url: http://x\n    timout: 5s\n`)).toEqual({
      file: 'gateway.yaml',
      line: 4,
      col: 5,
      key: 'upstreams.restaurant.timout',
      message: 'unknown key "timout"',
    });
  });

  it('several unknown keys are all reported, in order', () => {
    const { problems } = problemsOf(`server:\n  lisen: x\n  mod: report\nstores: 'memory:'\n`);
    expect(problems.map((p) => `${p.line}:${p.col} ${p.key}`)).toEqual([
      '2:3 server.lisen',
      '3:3 server.mod',
      '4:1 stores',
    ]);
  });

  it('__proto__ is an unknown key like any other, and changes nothing', () => {
    expect(problemOf(`server:\n  __proto__: { mode: report }\n`)).toEqual({
      file: 'gateway.yaml',
      line: 2,
      col: 3,
      key: 'server.__proto__',
      message: 'unknown key "__proto__"',
    });
    const route = withRoutes(`  - path: /a\n    scopes: [x]\n    __proto__: { auth: none }\n`);
    expect(problemOf(route)).toMatchObject({ key: 'routes[0].__proto__', message: 'unknown key "__proto__"' });
  });

  it('a route scopes key that is not a method (GETS) names it', () => {
    const p = problemOf(withRoutes(`  - path: /a\n    scopes: { GETS: [menu:read] }\n`));
    expect(p).toEqual({
      file: 'gateway.yaml',
      line: 5,
      col: 15,
      key: 'routes[0].scopes.GETS',
      message: 'unknown key "GETS"',
    });
  });

  it('a lowercase method key is unknown too (methods are case-sensitive)', () => {
    const p = problemOf(withRoutes(`  - path: /a\n    scopes:\n      read: [a]\n      delete: [b]\n`));
    expect(p).toMatchObject({ line: 7, col: 7, key: 'routes[0].scopes.delete', message: 'unknown key "delete"' });
  });
});

describe('parseConfig: bad values', () => {
  it.each([
    ['upstreams:\n  r: { url: http://x, timeout: 5x }\n', 2, 32, 'upstreams.r.timeout', /"5x" is not a duration/],
    ['upstreams:\n  r: { url: http://x, timeout: 1.5s }\n', 2, 32, 'upstreams.r.timeout', /not a duration/],
    ['upstreams:\n  r: { url: http://x, timeout: -1s }\n', 2, 32, 'upstreams.r.timeout', /not a duration/],
    ['upstreams:\n  r: { url: http://x, timeout: 5 }\n', 2, 32, 'upstreams.r.timeout', /expected string/],
    [
      'issuer:\n  issuer: http://x\n  audience: a\n  access_token_ttl: 30 min\n',
      4,
      21,
      'issuer.access_token_ttl',
      /duration/,
    ],
    [
      'server:\n  failed_auth_limit: 20/fortnight\n',
      2,
      22,
      'server.failed_auth_limit',
      /"20\/fortnight" is not a rate/,
    ],
    ['server:\n  failed_auth_limit: 0/s\n', 2, 22, 'server.failed_auth_limit', /not a rate/],
    ['server:\n  failed_auth_limit: fast\n', 2, 22, 'server.failed_auth_limit', /not a rate/],
    ['clients:\n  - id: c\n    rate_limit: 50\n', 3, 17, 'clients[0].rate_limit', /expected string/],
    [
      withRoutes('  - path: /a\n    auth: none\n    max_body: 10 megabytes\n'),
      6,
      15,
      'routes[0].max_body',
      /not a size/,
    ],
    [withRoutes('  - path: /a\n    auth: none\n    max_body: 10\n'), 6, 15, 'routes[0].max_body', /expected string/],
    ['clients:\n  - id: c\n    expires_at: tomorrow\n', 3, 17, 'clients[0].expires_at', /datetime/i],
    ['clients:\n  - id: c\n    expires_at: 2027-06-30\n', 3, 17, 'clients[0].expires_at', /datetime/i],
    ['clients:\n  - id: "c 1"\n', 2, 9, 'clients[0].id', /letters, digits/],
    ['server:\n  listen: 8080\n', 2, 11, 'server.listen', /expected string/],
    ['server:\n  listen: localhost\n', 2, 11, 'server.listen', /host:port/],
    ['server:\n  mode: audit\n', 2, 9, 'server.mode', /enforce|report/],
    ['server:\n  admin_token: short\n', 2, 16, 'server.admin_token', /16 characters/],
    ['store: postgres://db\n', 1, 8, 'store', /sqlite/],
    ['upstreams:\n  r: { url: ftp://x }\n', 2, 13, 'upstreams.r.url', /http\(s\) URL/],
    ['clients:\n  - id: c\n    scopes: ["a b"]\n', 3, 14, 'clients[0].scopes[0]', /printable ASCII/],
  ])('%j', (text, line, col, key, message) => {
    const p = problemOf(text);
    expect({ line: p.line, col: p.col, key: p.key }).toEqual({ line, col, key });
    expect(p.message).toMatch(message);
  });

  it('a missing required key is reported as missing, where it should be', () => {
    expect(problemOf(`upstreams:\n  restaurant:\n    timeout: 5s\n`)).toEqual({
      file: 'gateway.yaml',
      line: 2,
      col: 3,
      key: 'upstreams.restaurant.url',
      message: 'missing required key "url"',
    });
    expect(problemOf(`clients:\n  - name: x\n`)).toMatchObject({
      line: 2,
      col: 5,
      key: 'clients[0].id',
      message: 'missing required key "id"',
    });
  });

  it('HMAC algorithms are refused for a trusted issuer', () => {
    for (const alg of ['HS256', 'HS512', 'none']) {
      const text = `trusted_issuers:\n  - issuer: https://idp\n    jwks_uri: https://idp/jwks\n    audience: api\n    algorithms: [RS256, ${alg}]\n`;
      expect(problemOf(text)).toMatchObject({
        line: 5,
        col: 25,
        key: 'trusted_issuers[0].algorithms[1]',
        message: 'only asymmetric algorithms are allowed for a JWKS issuer',
      });
    }
  });

  it('a union field says which forms it accepts instead of "Invalid input"', () => {
    const auth = problemOf(withRoutes(`  - path: /a\n    auth: bearer\n    scopes: [x]\n`));
    expect(auth).toMatchObject({ line: 5, col: 11, key: 'routes[0].auth' });
    expect(auth.message).toBe('expected "none" or a list, got a string');

    const scopes = problemOf(withRoutes(`  - path: /a\n    scopes: menu:read\n`));
    expect(scopes).toMatchObject({ line: 5, col: 13, key: 'routes[0].scopes' });
    expect(scopes.message).toBe('expected a map or a list, got a string');

    const audience = problemOf(`trusted_issuers:\n  - issuer: x\n    jwks_uri: https://x/j\n    audience: 5\n`);
    expect(audience).toMatchObject({ line: 4, col: 15, key: 'trusted_issuers[0].audience' });
    expect(audience.message).toBe('expected a string or a list, got a number');
  });

  it('reserves `local` and `introspection` as issuers (X-Auth-Issuer of own and introspected identities)', () => {
    for (const name of ['local', 'introspection']) {
      const p = problemOf(`trusted_issuers:\n  - issuer: ${name}\n    jwks_uri: https://x/j\n    audience: api\n`);
      expect(p).toMatchObject({ key: 'trusted_issuers[0].issuer' });
      expect(p.message).toMatch(/reserved/);
    }
  });

  it('token_types and max_lifetime per trusted issuer', () => {
    const base = `trusted_issuers:\n  - issuer: x\n    jwks_uri: https://x/j\n    audience: api\n`;
    const config = parseConfig(`${base}    token_types: [at+jwt]\n    max_lifetime: 1h\n`, 'gateway.yaml', {
      env: ENV,
    });
    expect(config.trusted_issuers[0]).toMatchObject({ token_types: ['at+jwt'], max_lifetime: 3_600_000 });
    expect(problemOf(`${base}    token_types: []\n`)).toMatchObject({ key: 'trusted_issuers[0].token_types' });
    expect(problemOf(`${base}    max_lifetime: 0s\n`)).toMatchObject({ key: 'trusted_issuers[0].max_lifetime' });
  });

  it('within a union, the error of the branch that fits is reported', () => {
    const badMethod = problemOf(
      withRoutes(
        `  - path: /a\n    auth: [bearer, basic]\n    scopes: [x]\n`,
        'issuer: { issuer: http://x, audience: a }\n',
      ),
    );
    expect(badMethod).toMatchObject({
      key: 'routes[0].auth[1]',
      message: expect.stringMatching(/bearer.*api_key.*client_secret/),
    });

    const emptyAny = problemOf(withRoutes(`  - path: /a\n    scopes: { GET: { any: [] } }\n`));
    expect(emptyAny).toMatchObject({ key: 'routes[0].scopes.GET.any', message: expect.stringMatching(/>=1/) });

    const badScope = problemOf(withRoutes(`  - path: /a\n    scopes: { any: ["a b"] }\n`));
    expect(badScope).toMatchObject({ key: 'routes[0].scopes.any[0]', message: expect.stringMatching(/printable/) });

    // {anyy: [a]} fits {any: [...]} best: both the typo and the key it stands for are named
    const { problems } = problemsOf(withRoutes(`  - path: /a\n    scopes: { GET: { anyy: [a] } }\n`));
    expect(problems.map((p) => `${p.key}: ${p.message}`)).toEqual([
      'routes[0].scopes.GET.any: missing required key "any"',
      'routes[0].scopes.GET.anyy: unknown key "anyy"',
    ]);
  });
});

describe('parseConfig: rules across fields', () => {
  it('duplicate client ids', () => {
    expect(problemOf(`clients:\n  - id: a\n  - id: b\n  - id: a\n`)).toEqual({
      file: 'gateway.yaml',
      line: 4,
      col: 9,
      key: 'clients[2].id',
      message: 'duplicate client id "a"',
    });
  });

  it('an API key scope that its client does not have', () => {
    const text = `clients:\n  - id: a\n    scopes: [menu:read]\n    api_keys:\n      - hash: "${KEY_HASH}"\n        scopes: [menu:read, menu:write]\n`;
    expect(problemOf(text)).toEqual({
      file: 'gateway.yaml',
      line: 6,
      col: 17,
      key: 'clients[0].api_keys[0].scopes',
      message: `"menu:write" is not one of the client's scopes`,
    });
  });

  it('the same API key twice', () => {
    const text = `clients:\n  - id: a\n    api_keys: [{ hash: "${KEY_HASH}" }]\n  - id: b\n    api_keys: [{ hash: "${KEY_HASH}" }]\n`;
    expect(problemOf(text)).toMatchObject({
      line: 5,
      key: 'clients[1].api_keys[0].hash',
      message: expect.stringMatching(/already/),
    });
  });

  it('secret_hash and secret both set', () => {
    const text = `clients:\n  - id: a\n    secret_hash: "${SECRET_HASH}"\n    secret: \${A_SECRET}\n`;
    expect(problemOf(text, { A_SECRET: 'a-secret-of-some-length' })).toEqual({
      file: 'gateway.yaml',
      line: 4,
      col: 13,
      key: 'clients[0].secret',
      message: 'set secret_hash or secret, not both',
    });
  });

  it('an unknown upstream', () => {
    expect(problemOf(withRoutes(`  - path: /a\n    upstream: restaurnt\n    auth: none\n`))).toEqual({
      file: 'gateway.yaml',
      line: 5,
      col: 15,
      key: 'routes[0].upstream',
      message: 'unknown upstream "restaurnt"',
    });
    // names inherited from Object.prototype are not upstreams
    expect(problemOf(withRoutes(`  - path: /a\n    upstream: toString\n    auth: none\n`)).message).toBe(
      'unknown upstream "toString"',
    );
  });

  it('a protected route without scopes', () => {
    expect(problemOf(withRoutes(`  - path: /a\n    upstream: restaurant\n`))).toEqual({
      file: 'gateway.yaml',
      line: 4,
      col: 5,
      key: 'routes[0]',
      message: 'a protected route needs scopes (use scopes: [] for any authenticated client)',
    });
  });

  it('auth: none with scopes, or with a tenant_param', () => {
    expect(problemOf(withRoutes(`  - path: /a\n    auth: none\n    scopes: [x]\n`))).toMatchObject({
      line: 6,
      col: 13,
      key: 'routes[0].scopes',
      message: 'a route with auth: none has no scopes',
    });
    expect(problemOf(withRoutes(`  - path: /o/:org\n    auth: none\n    tenant_param: org\n`))).toMatchObject({
      key: 'routes[0].tenant_param',
      message: 'a route with auth: none has no tenant',
    });
  });

  it('tenant_param that names no :param of the path', () => {
    expect(problemOf(withRoutes(`  - path: /o/:org/x\n    tenant_param: organization\n    scopes: [x]\n`))).toEqual({
      file: 'gateway.yaml',
      line: 5,
      col: 19,
      key: 'routes[0].tenant_param',
      message: 'path has no :organization',
    });
  });

  it('strip_prefix that is not a leading part of the path', () => {
    expect(problemOf(withRoutes(`  - path: /api/menu/**\n    strip_prefix: /v1\n    scopes: [x]\n`))).toEqual({
      file: 'gateway.yaml',
      line: 5,
      col: 19,
      key: 'routes[0].strip_prefix',
      message: '"/v1" is not a leading part of the path',
    });
    // on segment boundaries: /ap is not a prefix of /api
    expect(problemOf(withRoutes(`  - path: /api/menu/**\n    strip_prefix: /ap\n    scopes: [x]\n`)).key).toBe(
      'routes[0].strip_prefix',
    );
    for (const prefix of ['/api', '/api/', '/api/menu']) {
      expect(() =>
        parseConfig(withRoutes(`  - path: /api/menu/**\n    strip_prefix: ${prefix}\n    scopes: [x]\n`), 'g', {
          env: {},
        }),
      ).not.toThrow();
    }
  });

  it('an invalid route path pattern', () => {
    expect(problemOf(withRoutes(`  - path: /a/b*\n    scopes: [x]\n`))).toMatchObject({
      line: 4,
      col: 11,
      key: 'routes[0].path',
      message: expect.stringMatching(/stand alone/),
    });
  });

  it('bearer on a route when nothing can verify a token', () => {
    expect(problemOf(withRoutes(`  - path: /a\n    auth: [bearer]\n    scopes: [x]\n`))).toMatchObject({
      key: 'routes[0].auth',
      message: 'bearer needs issuer, trusted_issuers or introspection',
    });
  });

  it('reports every problem at once', () => {
    const text = withRoutes(
      `  - path: /a\n    upstream: nope\n  - path: /b\n    auth: none\n    scopes: [x]\n`,
      'clients:\n  - id: a\n  - id: a\n',
    );
    expect(problemsOf(text).problems.map((p) => p.key)).toEqual([
      'clients[1].id',
      'routes[0].upstream',
      'routes[0]',
      'routes[1].scopes',
    ]);
  });
});

describe('loadConfigFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'scopegate-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads and validates a file', () => {
    const file = join(dir, 'gateway.yaml');
    writeFileSync(file, SPEC_EXAMPLE);
    expect(loadConfigFile(file, { env: ENV }).routes).toHaveLength(3);
  });

  it('names the file in every problem', () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'server:\n  lisen: x\n');
    expect(() => loadConfigFile(file, { env: {} })).toThrow(`${file}:2:3 server.lisen: unknown key "lisen"`);
  });

  it('an unreadable file is a ConfigError', () => {
    const file = join(dir, 'missing.yaml');
    let error: unknown;
    try {
      loadConfigFile(file);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      { file, line: 1, col: 1, key: '', message: 'cannot read config file (ENOENT)' },
    ]);
  });

  it('uses process.env when no env is given', () => {
    const file = join(dir, 'env.yaml');
    writeFileSync(file, 'server:\n  realm: ${SCOPEGATE_TEST_REALM}\n');
    process.env.SCOPEGATE_TEST_REALM = 'from-process-env';
    try {
      expect(loadConfigFile(file).server.realm).toBe('from-process-env');
    } finally {
      delete process.env.SCOPEGATE_TEST_REALM;
    }
  });
});

describe('parseConfig: admin tokens and organizations (SPEC.md 10)', () => {
  const hash = `sha256:${'a'.repeat(64)}`;
  const base = `organizations:\n  berlin: { name: Berlin, licensed_scopes: [menu:read] }\n`;
  it('refuses a file client holding a scope its organization does not license, naming the scope', () => {
    const text = `${base}clients:\n  - id: c1\n    tenants: [berlin]\n    scopes: [menu:read, orders:write]\n`;
    expect(() => parseConfig(text, 'gateway.yaml', { env: {} })).toThrow(/orders:write/);
  });
  it('refuses a client tenant missing from organizations', () => {
    const text = `${base}clients:\n  - id: c1\n    tenants: [munich]\n    scopes: []\n`;
    expect(() => parseConfig(text, 'gateway.yaml', { env: {} })).toThrow(/not listed in organizations: munich/);
  });
  it('refuses an org_admin without organizations', () => {
    const text = `${base}admin:\n  tokens:\n    - { id: a, hash: "${hash}", role: org_admin }\n`;
    expect(() => parseConfig(text, 'gateway.yaml', { env: {} })).toThrow(/org_admin needs organizations/);
  });
  it('accepts licensed clients and a complete admin section', () => {
    const text = `${base}admin:\n  tokens:\n    - { id: a, hash: "${hash}", role: org_admin, organizations: [berlin] }\n  secret_ttl: 30d\nclients:\n  - id: c1\n    tenants: [berlin]\n    scopes: [menu:read]\n`;
    const config = parseConfig(text, 'gateway.yaml', { env: {} });
    expect(config.admin.secret_ttl).toBe(30 * 86_400_000);
  });
  it('refuses a non-loopback admin listener without TLS and an admin token', () => {
    const text = `server: { admin_listen: "0.0.0.0:9901" }\n`;
    expect(() => parseConfig(text, 'gateway.yaml', { env: {} })).toThrow(/needs server.tls and an admin token/);
  });
});

describe('server.workers (SPEC.md 9)', () => {
  it('takes a count from 1 or auto, nothing else', () => {
    expect(parseConfig('server: { workers: 4 }\n', 'g.yaml', { env: {} }).server.workers).toBe(4);
    expect(parseConfig('server: { workers: auto }\n', 'g.yaml', { env: {} }).server.workers).toBe('auto');
    for (const bad of ['0', '-1', '1.5', 'all']) {
      expect(problemOf(`server: { workers: ${bad} }\n`)).toMatchObject({ key: 'server.workers' });
    }
  });

  it('refuses store memory: with more than one worker, or auto', () => {
    for (const workers of ['2', 'auto']) {
      expect(problemOf(`store: "memory:"\nserver: { workers: ${workers} }\n`)).toMatchObject({
        key: 'server.workers',
        message: expect.stringContaining('shared store') as string,
      });
    }
    expect(parseConfig('store: "memory:"\nserver: { workers: 1 }\n', 'g.yaml', { env: {} }).server.workers).toBe(1);
  });
});
