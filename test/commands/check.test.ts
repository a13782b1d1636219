/** `scopegate check` from the built CLI: the matrix, errors with file:line:col, and warnings that keep exit 0. */
import { beforeAll, describe, expect, it } from 'vitest';
import { parsePattern } from '../../src/routing/route-pattern.js';
import { patternCovers } from '../../src/commands/check.js';
import { hashApiKey, hashSecret } from '../../src/auth/secret-hash.js';
import { runCli, writeConfigDir } from '../e2e/ops/cli.js';

const KEY = hashApiKey('k'.repeat(40));
let secret: string;
beforeAll(async () => {
  secret = `secret_hash: "${await hashSecret('a-secret-of-enough-length')}"`;
});

const config = (routes: string, clients: string) => `
server:
  listen: 127.0.0.1:0
store: "memory:"
issuer:
  issuer: http://gateway.test
  audience: api
  keys: ./keys
clients:
${clients}
upstreams:
  api: { url: http://127.0.0.1:9 }
routes:
${routes}
`;

const check = (yaml: string) => runCli(['check', '--config', writeConfigDir(yaml).configPath]);

describe('scopegate check', () => {
  it('a clean config: the matrix and no warnings', () => {
    const r = check(
      config(
        `  - { path: /api/menu/**, upstream: api, scopes: { read: [menu:read] } }
  - { path: /api/public/**, upstream: api, auth: none }`,
        `  - { id: pos, ${secret}, scopes: [menu:read] }`,
      ),
    );
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/gateway\.yaml: ok \(2 routes, 1 clients, 1 upstreams\)/);
    expect(r.stdout).not.toContain('warning:');
    expect(r.stdout).toMatch(/\/api\/menu\/\*\*\s+GET\s+menu:read/);
  });

  it('warns about unreachable routes, unused client scopes and shadowed routes, and exits 0', () => {
    const r = check(
      config(
        `  - { path: /api/**, upstream: api, scopes: { read: [menu:read] } }
  - { path: /api/orders/:id, upstream: api, scopes: { read: [orders:read] } }
  - { path: /v2/menu/**, upstream: api, scopes: { read: [menu:read], write: [menu:write] } }
  - { path: /v2/admin/**, upstream: api, scopes: [admin] }
  - { path: /v2/keys/**, upstream: api, auth: [api_key], scopes: [orders:read] }
  - { path: /v2/orgs/:org/**, upstream: api, tenant_param: org, scopes: [menu:read] }`,
        `  - { id: pos, ${secret}, scopes: [menu:read, orders:read, reports:read], api_keys: [{ hash: "${KEY}", scopes: [menu:read] }] }`,
      ),
    );
    expect(r.status).toBe(0);
    const warnings = r.stdout.split('\n').filter((l) => l.startsWith('warning: '));
    expect(warnings).toEqual([
      'warning: route #2 /api/orders/:id is shadowed by route #1 /api/**',
      'warning: route #3 /v2/menu/**: no client can call POST, PUT, PATCH, DELETE',
      'warning: route #4 /v2/admin/**: no client can reach it',
      'warning: route #5 /v2/keys/**: no client can reach it',
      'warning: route #6 /v2/orgs/:org/**: no client can reach it',
      'warning: client pos: no route requires reports:read',
    ]);
  });

  it('a bad config: exit 1 with file:line:col per problem', () => {
    const r = check(
      config(`  - { path: /api/**, upstream: api, scopes: { GETS: [a] } }`, `  - { id: pos, scopes: [a] }`),
    );
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/gateway\.yaml:\d+:\d+ routes\[0\]\.scopes\.GETS: unknown key "GETS"/);
  });

  it('a file client holding scopes its organizations do not license: exit 1 naming the scopes (SPEC.md 10)', () => {
    const yaml =
      config(
        `  - { path: /api/**, upstream: api, scopes: [menu:read] }`,
        `  - { id: pos, tenants: [berlin], scopes: [menu:read, orders:write, x:y] }`,
      ) + `organizations:\n  berlin: { licensed_scopes: [menu:read] }\n`;
    const r = check(yaml);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /gateway\.yaml:\d+:\d+ clients\[0\]\.scopes: not licensed to all of its organizations: orders:write, x:y/,
    );
  });
});

describe('patternCovers (shadowing)', () => {
  const covers = (outer: string, inner: string) => patternCovers(parsePattern(outer), parsePattern(inner));
  it.each([
    ['/api/**', '/api/orders/:id', true],
    ['/api/**', '/api', true],
    ['/**', '/anything/**', true],
    ['/api/*', '/api/:id', true],
    ['/api/:id', '/api/orders', true],
    ['/api/*/x', '/api/**/x', false],
    ['/api/**/x', '/api/a/b/x', true],
    ['/api/*', '/api/**', false],
    ['/api/orders', '/api/orders/**', false],
    ['/api/menu/**', '/api/orders/**', false],
    ['/api/:id', '/api/', false],
  ])('%s covers %s: %s', (outer, inner, expected) => {
    expect(covers(outer, inner)).toBe(expected);
  });
});
