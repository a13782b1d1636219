/**
 * The one source of gateway.yaml's shape: types, defaults, messages and (via `z.toJSONSchema`) the JSON Schema in
 * `config/gateway.schema.json`. Every object is strict: an unknown key is an error, so a typo cannot silently weaken
 * security.
 */
import { z } from 'zod';
import { parseCidr } from './trusted-proxies.js';
import { parseDuration, parseRate, parseSize } from './units.js';

const duration = (description: string) =>
  z
    .string()
    .describe(`${description} (e.g. 30s, 15m, 1h, 30d)`)
    .transform((text, ctx) => {
      const ms = parseDuration(text);
      if (ms === undefined)
        ctx.addIssue({ code: 'custom', message: `"${text}" is not a duration like 30s, 15m, 1h, 30d` });
      return ms ?? 0;
    });

/** Timeouts: Node's timers overflow past ~24.8 days and fire at once, and 0 would mean "fail everything". */
const timeout = (description: string) =>
  duration(description).refine((ms) => ms >= 1 && ms <= 3_600_000, 'a timeout is between 1ms and 1h');

const size = (description: string) =>
  z
    .string()
    .describe(`${description} (e.g. 64kb, 10mb)`)
    .transform((text, ctx) => {
      const bytes = parseSize(text);
      if (bytes === undefined) ctx.addIssue({ code: 'custom', message: `"${text}" is not a size like 64kb or 10mb` });
      return bytes ?? 0;
    });

const rate = (description: string) =>
  z
    .string()
    .describe(`${description} (e.g. 50/s, 20/min, 1000/h)`)
    .transform((text, ctx) => {
      const r = parseRate(text);
      if (r === undefined) ctx.addIssue({ code: 'custom', message: `"${text}" is not a rate like 50/s or 20/min` });
      return r ?? { limit: 1, windowMs: 1000 };
    });

const hostPort = z
  .string()
  .regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'must be host:port, e.g. 127.0.0.1:8080');

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });

/** Scope tokens per RFC 6749 3.3: printable ASCII without space, `"` or `\`. */
export const scopeToken = z
  .string()
  .regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/, 'a scope is printable ASCII without spaces, quotes or backslashes');

/** URL-safe identifiers (client ids, tenants), so they survive headers, paths and form encoding unchanged. */
const urlSafeId = z.string().regex(/^[A-Za-z0-9._~-]+$/, 'use only letters, digits and . _ ~ -');

export const METHOD_KEYS = ['read', 'write', 'GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
export type MethodKey = (typeof METHOD_KEYS)[number];

/** A list means every scope is required; `{any: [...]}` means one of them; `{all: [...]}` is the explicit list form. */
export const requirementSchema = z.union([
  z.array(scopeToken).describe('all of these scopes are required'),
  z.strictObject({ any: z.array(scopeToken).min(1) }).describe('one of these scopes is required'),
  z.strictObject({ all: z.array(scopeToken) }).describe('all of these scopes are required'),
]);
export type RequirementInput = z.input<typeof requirementSchema>;

const methodMap = z
  .strictObject(
    Object.fromEntries(METHOD_KEYS.map((k) => [k, requirementSchema.optional()])) as Record<
      MethodKey,
      z.ZodOptional<typeof requirementSchema>
    >,
  )
  .describe('scopes per method: read = GET+HEAD, write = POST+PUT+PATCH+DELETE; a method named explicitly wins');

export const AUTH_METHODS = ['bearer', 'api_key', 'client_secret'] as const;
export type AuthMethod = (typeof AUTH_METHODS)[number];

const serverSchema = z.strictObject({
  listen: hostPort.default('127.0.0.1:8080').describe('address of the public listener'),
  admin_listen: hostPort.optional().describe('address of /healthz, /readyz, /metrics and the admin API'),
  public_url: httpUrl
    .optional()
    .describe(
      'base URL partners use; names the resource metadata in challenges (default: issuer.issuer, else http://listen)',
    ),
  realm: z
    .string()
    .regex(/^[^"\\]*$/, 'no quotes or backslashes')
    .default('scopegate')
    .describe('realm in WWW-Authenticate'),
  admin_token: z.string().min(16, 'use at least 16 characters').optional().describe('Bearer token for the admin API'),
  failed_auth_limit: rate('failed credential checks per address and per client id').prefault('20/min'),
  mode: z.enum(['enforce', 'report']).default('enforce').describe('report: log would-be denials and forward anyway'),
  trusted_proxies: z
    .array(
      z
        .string()
        .refine((text) => parseCidr(text) !== undefined, 'an IP address or CIDR block, e.g. 10.0.0.0/8 or fd00::/8'),
    )
    .default([])
    .describe('load balancers and proxies whose X-Forwarded-For / Forwarded name the client address'),
  tls: z
    .strictObject({
      cert: z.string().min(1).describe('PEM certificate chain file, relative to the config folder'),
      key: z.string().min(1).describe('PEM private key file, relative to the config folder'),
    })
    .optional()
    .describe('serve HTTPS on both listeners; the files are re-read when they change'),
  workers: z
    .union([z.int().min(1).max(256), z.literal('auto')])
    .default(1)
    .describe(
      'processes sharing the public listener (node:cluster); auto: one per core. More than 1 needs a shared store',
    ),
  cors: z
    .strictObject({
      origins: z.array(z.union([httpUrl, z.literal('*')])).min(1),
      max_age: duration('how long browsers may cache a preflight').prefault('10m'),
    })
    .optional(),
});

const issuerSchema = z.strictObject({
  issuer: httpUrl.describe('"iss" of the tokens it signs'),
  audience: z.string().min(1).describe('"aud" of the tokens it signs'),
  token_paths: z
    .array(z.string().regex(/^\/[A-Za-z0-9._~/-]*$/, 'an absolute path'))
    .min(1)
    .default(['/oauth/token'])
    .describe('paths of the token endpoint'),
  keys: z.string().default('./config/keys').describe('folder of private JWKs; a new ES256 key is generated if empty'),
  access_token_ttl: duration('lifetime of access tokens').prefault('30m'),
  refresh_token_ttl: duration('lifetime of refresh tokens').prefault('30d'),
  tenant_parameter: z.string().min(1).default('organization_id').describe('token request parameter bound as "tenant"'),
});

export const ASYMMETRIC_ALGS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
] as const;

const trustedIssuerSchema = z.strictObject({
  issuer: z.string().min(1).describe('exact "iss" value'),
  jwks_uri: httpUrl,
  audience: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).describe('accepted "aud" value(s)'),
  algorithms: z
    .array(z.enum(ASYMMETRIC_ALGS, { error: 'only asymmetric algorithms are allowed for a JWKS issuer' }))
    .min(1)
    .default(['RS256', 'ES256']),
  scope_claim: z.string().min(1).optional().describe('claim holding scopes; default: scope, then scp'),
  client_id_claim: z
    .string()
    .min(1)
    .optional()
    .describe('claim naming the client; default: client_id, then azp, then sub'),
  tenant_claim: z.string().min(1).default('tenant').describe('claim naming the tenant'),
  token_types: z
    .array(z.string().regex(/^[\x21-\x7E]+$/, 'a media type like at+jwt, or absent'))
    .min(1)
    .default(['absent', 'JWT', 'at+jwt'])
    .describe(
      'accepted JWS header "typ" values (case-insensitive, "application/" optional, RFC 7515 4.1.9); ' +
        '"absent" accepts a token without typ. RFC 9068 access tokens only: [at+jwt]',
    ),
  max_lifetime: duration('longest accepted token lifetime: exp at most this far after now and after iat')
    .refine((ms) => ms >= 1000, 'at least 1s')
    .prefault('24h'),
});

const introspectionSchema = z.strictObject({
  endpoint: httpUrl,
  client_id: z.string().min(1),
  client_secret: z.string().min(1),
  cache_ttl: duration('how long an answer is cached (never past the token exp)').prefault('60s'),
  timeout: timeout('how long to wait for the endpoint').prefault('5s'),
});

const apiKeySchema = z.strictObject({
  hash: z.string().regex(/^sha256:[0-9a-f]{64}$/, 'must be "sha256:<64 hex>" from `scopegate hash-secret --api-key`'),
  scopes: z.array(scopeToken).optional().describe("at most the client's scopes; default all of them"),
  name: z.string().optional(),
});

const clientSchema = z.strictObject({
  id: urlSafeId,
  name: z.string().optional(),
  secret_hash: z
    .string()
    .regex(/^scrypt\$/, 'must come from `scopegate hash-secret`')
    .optional(),
  secret: z
    .string()
    .min(16, 'use at least 16 characters (or secret_hash)')
    .optional()
    .describe('plain secret, only via ${ENV}'),
  scopes: z.array(scopeToken).default([]),
  tenants: z.array(urlSafeId).optional().describe('organizations it may act for; omitted = no tenant binding'),
  refresh_tokens: z.boolean().default(false),
  expires_at: z.iso
    .datetime({ offset: true })
    .or(z.date())
    .transform((v) => (v instanceof Date ? v.getTime() : Date.parse(v)))
    .optional(),
  rate_limit: rate('requests per client').optional(),
  api_keys: z.array(apiKeySchema).default([]),
});

const isoTime = z.iso
  .datetime({ offset: true })
  .or(z.date())
  .transform((v) => (v instanceof Date ? v.getTime() : Date.parse(v)));

export const ADMIN_ROLES = ['operator', 'org_admin', 'viewer'] as const;
export type AdminRole = (typeof ADMIN_ROLES)[number];

const adminTokenSchema = z.strictObject({
  id: urlSafeId.describe('names the admin in the audit trail'),
  hash: z.string().regex(/^sha256:[0-9a-f]{64}$/, 'must be "sha256:<64 hex>" from `scopegate hash-secret --admin`'),
  role: z.enum(ADMIN_ROLES).describe('operator: everything; org_admin: its organizations; viewer: read only'),
  organizations: z.array(urlSafeId).min(1).optional().describe('the organizations an org_admin manages'),
  expires_at: isoTime.optional().describe('the token stops working then'),
});

const adminSchema = z.strictObject({
  tokens: z.array(adminTokenSchema).default([]).describe('admin tokens, only as hashes'),
  secret_ttl: duration('default lifetime of a generated secret or API key').prefault('90d'),
  secret_max_ttl: duration('longest lifetime of a generated secret or API key').prefault('365d'),
  rotation_overlap: duration('how long the old secret keeps working after a rotation').prefault('7d'),
});

const organizationSchema = z.strictObject({
  name: z.string().optional(),
  licensed_scopes: z.array(scopeToken).default([]).describe('the scopes its clients may hold'),
});

const upstreamSchema = z.strictObject({
  url: httpUrl,
  timeout: timeout('how long to wait for the upstream').prefault('15s'),
});

const routeSchema = z.strictObject({
  path: z.string().regex(/^\//, 'a route path starts with /'),
  upstream: z.string().optional(),
  strip_prefix: z.string().regex(/^\/./, 'a prefix like /api').optional(),
  tenant_param: z.string().optional().describe('the :name in path that must equal the caller tenant'),
  auth: z.union([z.literal('none'), z.array(z.enum(AUTH_METHODS)).min(1)]).optional(),
  scopes: z.union([methodMap, requirementSchema]).optional(),
  max_body: size('largest request body accepted').optional(),
});

const storeOptionsSchema = z.strictObject({
  prefix: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9:_.-]+$/, 'letters, digits and : _ . -')
    .default('scopegate:')
    .describe('Redis: every key starts with it'),
  command_timeout: timeout('Redis: one command, then the call counts as failed').prefault('50ms'),
  stale_max: duration('Redis unreachable: how long verified credentials keep working').prefault('60s'),
});

export const configSchema = z.strictObject({
  server: serverSchema.prefault({}),
  issuer: issuerSchema.optional(),
  trusted_issuers: z.array(trustedIssuerSchema).default([]),
  introspection: introspectionSchema.optional(),
  store: z
    .string()
    .regex(/^(sqlite:.+|rediss?:\/\/.+|memory:)$/, 'sqlite:PATH, redis://[user:pass@]host:port[/db] or memory:')
    .default('sqlite:./data/scopegate.db'),
  admin: adminSchema.prefault({}),
  organizations: z
    .record(urlSafeId, organizationSchema)
    .optional()
    .describe('when present, client tenants must be listed here'),
  store_options: storeOptionsSchema.prefault({}),
  clients: z.array(clientSchema).default([]),
  upstreams: z.record(z.string(), upstreamSchema).default({}),
  routes: z.array(routeSchema).default([]),
  allow_no_routes: z
    .boolean()
    .default(false)
    .describe(
      'accept a config without routes (every request 404); otherwise it is an error, so an empty or truncated file is never loaded',
    ),
});

export type GatewayConfig = z.output<typeof configSchema>;
export type GatewayConfigInput = z.input<typeof configSchema>;
export type ClientConfig = GatewayConfig['clients'][number];
export type RouteConfig = GatewayConfig['routes'][number];
export type TrustedIssuerConfig = GatewayConfig['trusted_issuers'][number];
export type IssuerConfig = NonNullable<GatewayConfig['issuer']>;
export type IntrospectionConfig = NonNullable<GatewayConfig['introspection']>;
export type AdminConfig = GatewayConfig['admin'];
export type AdminTokenConfig = AdminConfig['tokens'][number];
export type OrganizationConfig = NonNullable<GatewayConfig['organizations']>[string];
export type UpstreamConfig = GatewayConfig['upstreams'][string];
export type Requirement = z.output<typeof requirementSchema>;
