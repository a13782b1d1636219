import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { configSchema } from '../../src/config/schema.js';
import { buildJsonSchema, jsonSchemaPath, packageRoot, renderJsonSchema } from '../../src/config/write-json-schema.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SCHEMA_FILE = join(ROOT, 'config', 'gateway.schema.json');

type SchemaNode = { [key: string]: unknown };
const schema = buildJsonSchema() as SchemaNode;
const props = (node: unknown) => (node as SchemaNode).properties as Record<string, SchemaNode>;
const items = (node: unknown) => (node as SchemaNode).items as SchemaNode;

// Formats (uri, date-time) are left to the editor; the structure is what these tests hold the schema to.
const validate = new Ajv2020({ strict: true, validateFormats: false, allErrors: true }).compile(schema);
const valid = (yaml: string) => validate(parse(yaml) ?? {});

const KEY_HASH = `sha256:${'ab'.repeat(32)}`;

/** SPEC.md section 2's example as an operator writes it, `${ENV}` references included. */
const SPEC_EXAMPLE = `
server:
  listen: 127.0.0.1:8080
  admin_listen: 127.0.0.1:9901
  realm: restaurant-api
  admin_token: \${ADMIN_TOKEN}
  failed_auth_limit: 20/min
  mode: enforce
  cors: { origins: [https://partner.example] }
issuer:
  issuer: http://127.0.0.1:8080
  audience: restaurant-api
  token_paths: [/oauth/token]
  keys: ./config/keys
  access_token_ttl: 30m
  refresh_token_ttl: 30d
  tenant_parameter: organization_id
trusted_issuers:
  - issuer: https://idp.example.com/
    jwks_uri: https://idp.example.com/.well-known/jwks.json
    audience: restaurant-api
    algorithms: [RS256, ES256]
    scope_claim: scope
introspection:
  endpoint: https://idp.example.com/oauth/introspect
  client_id: gateway
  client_secret: \${INTROSPECTION_SECRET}
  cache_ttl: 60s
  timeout: 5s
store: sqlite:./data/scopegate.db
clients:
  - id: pos-partner
    name: POS Partner GmbH
    secret_hash: "scrypt$16384$8$1$c2FsdA$aGFzaA"
    scopes: [menu:read, orders:read, orders:write]
    tenants: [rest-berlin, rest-munich]
    refresh_tokens: true
    expires_at: 2027-06-30T00:00:00Z
    rate_limit: 50/s
    api_keys:
      - hash: "${KEY_HASH}"
        scopes: [menu:read]
  - id: other
    secret: \${OTHER_SECRET}
upstreams:
  restaurant:
    url: \${RESTAURANT_URL}
    timeout: 15s
routes:
  - path: /api/menu/**
    upstream: restaurant
    strip_prefix: /api
    scopes:
      read: [menu:read]
      write: [menu:write]
  - path: /api/organizations/:org/reservations/**
    upstream: restaurant
    tenant_param: org
    scopes: { GET: [reservations:read], POST: { any: [reservations:write, admin] } }
  - path: /api/public/**
    upstream: restaurant
    auth: none
    max_body: 10mb
`;

describe('config/gateway.schema.json', () => {
  it('is up to date with the zod schema', () => {
    const onDisk = readFileSync(SCHEMA_FILE, 'utf8');
    expect(onDisk, 'config/gateway.schema.json is stale: run `npm run schema`').toBe(renderJsonSchema());
  });

  it('is pretty-printed JSON with a trailing newline, and buildJsonSchema() is what it holds', () => {
    const text = renderJsonSchema();
    expect(text.endsWith('}\n')).toBe(true);
    expect(text).toBe(`${JSON.stringify(JSON.parse(text), null, 2)}\n`);
    expect(JSON.parse(text)).toEqual(buildJsonSchema());
  });

  it('is written to the package root, wherever it is run from', () => {
    expect(packageRoot()).toBe(ROOT);
    expect(jsonSchemaPath()).toBe(SCHEMA_FILE);
  });

  it('runs as a script and writes the schema', () => {
    const dir = mkdtempSync(join(tmpdir(), 'scopegate-schema-'));
    try {
      const out = join(dir, 'schema.json');
      const script = join(ROOT, 'src', 'config', 'write-json-schema.ts');
      // tsx resolved here, not from the temporary cwd, which has no node_modules
      const tsx = createRequire(import.meta.url).resolve('tsx');
      execFileSync(process.execPath, ['--import', pathToFileURL(tsx).href, script, out], { cwd: dir, stdio: 'pipe' });
      expect(readFileSync(out, 'utf8')).toBe(renderJsonSchema());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('buildJsonSchema', () => {
  it('is a titled draft 2020-12 schema', () => {
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.title).toBe('scopegate gateway.yaml');
    expect(schema.type).toBe('object');
  });

  it('refuses unknown keys at every level, as the loader does', () => {
    const p = props(schema);
    const objects: [string, unknown][] = [
      ['top level', schema],
      ['server', p.server],
      ['server.cors', props(p.server).cors],
      ['issuer', p.issuer],
      ['trusted_issuers[]', items(p.trusted_issuers)],
      ['introspection', p.introspection],
      ['clients[]', items(p.clients)],
      ['clients[].api_keys[]', items(props(items(p.clients)).api_keys)],
      ['upstreams.*', (p.upstreams as SchemaNode).additionalProperties],
      ['routes[]', items(p.routes)],
    ];
    for (const [where, node] of objects) expect((node as SchemaNode).additionalProperties, where).toBe(false);
  });

  it('describes fields, with their defaults, for editor hovers', () => {
    const server = props(props(schema).server);
    expect(server.listen).toMatchObject({ default: '127.0.0.1:8080', description: expect.any(String) });
    expect(server.mode).toMatchObject({ default: 'enforce' });
    expect(props(items(props(schema).routes)).scopes!.anyOf).toBeDefined();
  });

  it('accepts the SPEC example, ${ENV} references included', () => {
    expect(valid(SPEC_EXAMPLE), JSON.stringify(validate.errors)).toBe(true);
    expect(valid('')).toBe(true);
  });

  it("accepts the repository's gateway.yaml, which names the schema for editors", () => {
    const demo = readFileSync(join(ROOT, 'gateway.yaml'), 'utf8');
    expect(demo).toContain('$schema=./config/gateway.schema.json');
    expect(valid(demo), JSON.stringify(validate.errors)).toBe(true);
  });

  it.each([
    ['an unknown key in server', 'server:\n  lisen: 127.0.0.1:1\n'],
    ['an unknown top-level key', 'route: []\n'],
    ['an unknown key in a route', 'routes:\n  - path: /a\n    scopes: [x]\n    tenant_parm: org\n'],
    ['an unknown method in scopes', 'routes:\n  - path: /a\n    scopes: { GETS: [x] }\n'],
    ['a lowercase method in scopes', 'routes:\n  - path: /a\n    scopes: { get: [x] }\n'],
    ['any and all together', 'routes:\n  - path: /a\n    scopes: { GET: { any: [a], all: [b] } }\n'],
    ['auth as a string', 'routes:\n  - path: /a\n    auth: bearer\n'],
    ['an unknown auth method', 'routes:\n  - path: /a\n    auth: [basic]\n'],
    [
      'an HMAC algorithm',
      'trusted_issuers:\n  - { issuer: x, jwks_uri: https://x, audience: a, algorithms: [HS256] }\n',
    ],
    ['a short admin token', 'server:\n  admin_token: short\n'],
    ['an escaped reference, which stays literal', 'server:\n  admin_token: $${ADMIN_TOKEN}\n'],
    ['a bad mode', 'server:\n  mode: audit\n'],
    ['a duration as a number', 'upstreams:\n  r: { url: http://x, timeout: 5 }\n'],
    ['a missing upstream url', 'upstreams:\n  r: { timeout: 5s }\n'],
    ['a bad API key hash', `clients:\n  - id: a\n    api_keys: [{ hash: "md5:abc" }]\n`],
    ['an expires_at that is no date-time', 'clients:\n  - id: a\n    expires_at: tomorrow\n'],
    ['a client id with a space', 'clients:\n  - id: "a b"\n'],
    ['a scope with a space', 'clients:\n  - id: a\n    scopes: ["a b"]\n'],
  ])('rejects %s', (_what, yaml) => {
    expect(valid(yaml)).toBe(false);
  });

  it('never rejects what the loader accepts', () => {
    // The editor schema may be looser than the loader (units and cross-field rules are the loader's), never stricter.
    const samples = [
      '',
      'server: { listen: "[::1]:8080", mode: report, trusted_proxies: [10.0.0.0/8, "fd00::/8"], cors: { origins: ["*"] } }\n',
      'server: { tls: { cert: ./tls/cert.pem, key: ./tls/key.pem } }\n',
      'issuer: { issuer: https://gw.example, audience: api }\n',
      'clients:\n  - id: a\n    expires_at: 2027-06-30T02:00:00+02:00\n    rate_limit: 10/min\n',
      `clients:\n  - id: a\n    scopes: [x]\n    api_keys: [{ hash: "${KEY_HASH}", name: ci }]\n`,
      'routes:\n  - path: /a\n    scopes: []\n  - path: /b\n    scopes: { any: [a, b] }\n  - path: /c\n    scopes: { all: [a] }\n',
      'routes:\n  - path: /a\n    scopes: { read: { any: [a] }, OPTIONS: [b], DELETE: { all: [c, d] } }\n',
      'trusted_issuers:\n  - { issuer: x, jwks_uri: https://x/jwks, audience: [a, b], algorithms: [EdDSA, PS256] }\n',
      'store: "redis://cache:6379"\n',
    ];
    for (const yaml of samples) {
      const doc: unknown = parse(yaml) ?? {};
      expect(configSchema.safeParse(doc).success, yaml).toBe(true);
      expect(validate(doc), `${yaml}\n${JSON.stringify(validate.errors)}`).toBe(true);
    }
  });
});
