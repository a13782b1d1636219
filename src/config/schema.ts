/**
 * The one source of gateway.yaml's shape: types, defaults, messages and (via `z.toJSONSchema`) the JSON Schema in
 * `config/gateway.schema.json`. Every object is strict: an unknown key is an error, so a typo cannot silently weaken
 * security.
 */
import { z } from 'zod';
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
  trust_forwarded_for: z
    .boolean()
    .default(false)
    .describe('append to a client-sent X-Forwarded-For instead of replacing it (only behind a trusted proxy)'),
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

export const configSchema = z.strictObject({
  server: serverSchema.prefault({}),
  issuer: issuerSchema.optional(),
  trusted_issuers: z.array(trustedIssuerSchema).default([]),
  introspection: introspectionSchema.optional(),
  store: z
    .string()
    .regex(/^(sqlite:.+|redis:\/\/.+|memory:)$/, 'sqlite:PATH, redis://host:port or memory:')
    .default('sqlite:./data/scopegate.db'),
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
export type UpstreamConfig = GatewayConfig['upstreams'][string];
export type Requirement = z.output<typeof requirementSchema>;
