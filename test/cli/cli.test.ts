/** The CLI rows of SPEC.md section 1 that issue 2 owns: hash-secret, keygen, token, check; run as a user would. */
import { execFile, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { describe, expect, it } from 'vitest';
import { hashApiKey, verifySecretHash } from '../../src/auth/secret-hash.js';
import { loadKeys } from '../../src/issuer/keys.js';

const CLI = join(process.cwd(), 'dist/src/cli.js');
const run = (args: string[], input?: string, env: NodeJS.ProcessEnv = {}) =>
  spawnSync(process.execPath, [CLI, ...args], {
    input,
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 20_000,
  });

describe('scopegate hash-secret', () => {
  it('hashes a secret from stdin with salted scrypt that verifies, and differs per run', async () => {
    const secret = 'a-partner-secret-of-some-length';
    const a = run(['hash-secret'], `${secret}\n`);
    const b = run(['hash-secret'], secret);
    expect(a.status).toBe(0);
    const hash = a.stdout.trim();
    expect(hash).toMatch(/^scrypt\$/);
    expect(hash).not.toBe(b.stdout.trim());
    expect(await verifySecretHash(secret, hash)).toBe(true);
    expect(await verifySecretHash(`${secret}x`, hash)).toBe(false);
    expect(a.stdout + a.stderr).not.toContain(secret);
  });

  it('--api-key prints sha256:<hex>', () => {
    const r = run(['hash-secret', '--api-key'], 'an-api-key-0123456789abcdef');
    expect(r.stdout.trim()).toBe(hashApiKey('an-api-key-0123456789abcdef'));
  });

  it('--generate prints a URL-safe secret once and its YAML-ready hash', async () => {
    const r = run(['hash-secret', '--generate']);
    const secret = /^secret: ([^\s]+)/m.exec(r.stdout)![1]!;
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const hash = /^secret_hash: "([^"]+)"$/m.exec(r.stdout)![1]!;
    expect(await verifySecretHash(secret, hash)).toBe(true);
    const k = run(['hash-secret', '--generate', '--api-key']);
    const key = /^api_key: ([^\s]+)/m.exec(k.stdout)![1]!;
    expect(k.stdout).toContain(`hash: "${hashApiKey(key)}"`);
  });

  it('refuses a short secret with a clear message', () => {
    const r = run(['hash-secret'], 'short');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/at least 16 characters/);
  });
});

describe('scopegate keygen', () => {
  it('prints a private JWK with kid and alg', () => {
    for (const alg of ['ES256', 'RS256', 'EdDSA']) {
      const r = run(['keygen', '--alg', alg]);
      expect(r.status).toBe(0);
      const jwk = JSON.parse(r.stdout) as Record<string, string>;
      expect(jwk.alg).toBe(alg);
      expect(jwk.d).toBeTruthy();
      expect(jwk.kid).toMatch(/^[A-Za-z0-9_-]+$/);
    }
    expect(run(['keygen', '--alg', 'HS256']).status).toBe(1);
  });

  it('a keygen key added to the folder signs from then on; the old one still verifies', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'scopegate-keys-'));
    const first = await loadKeys(dir);
    writeFileSync(join(dir, `${Math.floor(Date.now() / 1000)}-next.json`), run(['keygen']).stdout);
    const second = await loadKeys(dir);
    expect(second.signing.kid).not.toBe(first.signing.kid);
    expect(second.verify.has(first.signing.kid)).toBe(true);
    expect(second.jwks.keys).toHaveLength(2);
    expect(JSON.stringify(second.jwks)).not.toContain('"d"');
  });

  it('instances starting at once on an empty folder agree on one key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'scopegate-keys-'));
    const sets = await Promise.all([loadKeys(dir), loadKeys(dir), loadKeys(dir)]);
    expect(new Set(sets.map((s) => s.signing.kid)).size).toBe(1);
    expect(readdirSync(dir).filter((f) => f.endsWith('.json'))).toHaveLength(1);
  });
});

describe('scopegate token and check', () => {
  function configDir() {
    const dir = mkdtempSync(join(tmpdir(), 'scopegate-cli-'));
    mkdirSync(join(dir, 'keys'));
    writeFileSync(
      join(dir, 'gateway.yaml'),
      `issuer:
  issuer: http://cli.test
  audience: api
  keys: ./keys
store: sqlite:./state.db
clients:
  - id: partner
    scopes: [menu:read, orders:read]
    tenants: [rest-berlin]
upstreams:
  app: { url: "http://127.0.0.1:9" }
routes:
  - path: /api/menu/**
    upstream: app
    scopes: { read: [menu:read], write: [menu:write] }
`,
    );
    return dir;
  }

  it('token mints a local RFC 9068 token with the requested scope and tenant', () => {
    const dir = configDir();
    const r = run([
      'token',
      '--client',
      'partner',
      '--scope',
      'menu:read',
      '--tenant',
      'rest-berlin',
      '--config',
      join(dir, 'gateway.yaml'),
    ]);
    expect(r.stderr).toBe('');
    const jwt = r.stdout.trim();
    expect(decodeProtectedHeader(jwt).typ).toBe('at+jwt');
    const claims = decodeJwt(jwt);
    expect(claims).toMatchObject({
      iss: 'http://cli.test',
      aud: 'api',
      sub: 'partner',
      client_id: 'partner',
      scope: 'menu:read',
      tenant: 'rest-berlin',
    });
  });

  it('token refuses a scope the client does not have', () => {
    const dir = configDir();
    const r = run(['token', '--client', 'partner', '--scope', 'menu:write'], undefined, {
      SCOPEGATE_CONFIG: join(dir, 'gateway.yaml'),
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/scope/);
  });

  it('check prints the route x method x scope matrix', () => {
    const dir = configDir();
    const r = run(['check', '--config', join(dir, 'gateway.yaml')]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/\/api\/menu\/\*\*\s+GET\s+menu:read/);
    expect(r.stdout).toMatch(/\/api\/menu\/\*\*\s+POST\s+menu:write/);
  });

  it('check names file:line:col and the key of an error, exit 1', () => {
    const dir = mkdtempSync(join(tmpdir(), 'scopegate-cli-'));
    const file = join(dir, 'gateway.yaml');
    writeFileSync(file, 'server:\n  listen: 127.0.0.1:8080\n  lisen: typo\n');
    const r = run(['check', '--config', file]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${file}:3:3 server.lisen: unknown key "lisen"`);
  });
});

describe('the README front door', () => {
  it('the bundled gateway.yaml is valid (with the admin token the demo sets)', async () => {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [CLI, 'check', '--config', 'gateway.yaml'], {
      env: { ...process.env, SCOPEGATE_ADMIN_TOKEN: 'x'.repeat(32) },
    });
    expect(stderr).toBe('');
    expect(stdout).toMatch(/gateway\.yaml: ok/);
  });
});
