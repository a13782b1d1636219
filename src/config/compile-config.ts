import type { BlockList } from 'node:net';
import { parsePattern, splitPath, type Pattern } from '../routing/route-pattern.js';
import { trustedProxyList } from './trusted-proxies.js';
import { methodTable, type ScopeRequirement } from './requirements.js';
import { AUTH_METHODS, type AuthMethod, type ClientConfig, type GatewayConfig, type RouteConfig } from './schema.js';

export interface CompiledRoute {
  index: number;
  /** the route's path pattern, used as its label in logs and metrics */
  label: string;
  pattern: Pattern;
  upstream?: string;
  /** number of leading segments removed before forwarding */
  stripSegments: number;
  tenantParam?: string;
  /** accepted credential kinds; 'none' = public route */
  auth: 'none' | ReadonlySet<AuthMethod>;
  methods: ReadonlyMap<string, ScopeRequirement>;
  /** value of `Allow` on a 405 */
  allow: readonly string[];
  maxBody?: number;
  source: RouteConfig;
}

export interface CompiledApiKey {
  clientId: string;
  scopes: readonly string[];
  /** a key created through the admin API: its id (for last_used_at) and its expiry, ms since the epoch */
  id?: string;
  expiresAt?: number;
}

/** A secret of a client created through the admin API: scrypt hash, refused from `expiresAt` on like a wrong one. */
export interface RuntimeSecret {
  id: string;
  hash: string;
  expiresAt: number;
}

/**
 * A client as the request path sees it: from gateway.yaml (`source` unset) or created through the admin API
 * (`source: 'store'`, with up to two live secrets instead of `secret_hash`).
 */
export type ClientEntry = Omit<ClientConfig, 'api_keys'> & {
  api_keys: (ClientConfig['api_keys'][number] & { id?: string; expiresAt?: number })[];
  source?: 'file' | 'store';
  secrets?: readonly RuntimeSecret[];
};

export interface CompiledConfig {
  config: GatewayConfig;
  routes: readonly CompiledRoute[];
  clients: ReadonlyMap<string, ClientEntry>;
  /** by `sha256:<hex>` of the key */
  apiKeys: ReadonlyMap<string, CompiledApiKey>;
  /** base URL partners reach the gateway at */
  publicUrl: string;
  /** RFC 9728 metadata URL named in every Bearer challenge */
  resourceMetadataUrl: string;
  /** credential kinds the config can verify at all */
  configuredAuth: ReadonlySet<AuthMethod>;
  /** `server.trusted_proxies`; undefined when empty (no forwarded address is believed) */
  trustedProxies: BlockList | undefined;
}

const ALL_METHODS_NOT_FORWARDED = new Set(['TRACE', 'CONNECT']);

export function compileRoute(route: RouteConfig, index: number, configured: ReadonlySet<AuthMethod>): CompiledRoute {
  const methods = methodTable(route.scopes);
  const allow =
    route.auth === 'none' ? ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] : [...methods.keys()];
  return {
    index,
    label: route.path,
    pattern: parsePattern(route.path),
    upstream: route.upstream,
    stripSegments: route.strip_prefix ? splitPath(route.strip_prefix.replace(/\/$/, '')).length : 0,
    tenantParam: route.tenant_param,
    auth: route.auth === 'none' ? 'none' : new Set(route.auth ?? configured),
    methods,
    allow,
    maxBody: route.max_body,
    source: route,
  };
}

export function isNeverForwarded(method: string): boolean {
  return ALL_METHODS_NOT_FORWARDED.has(method);
}

/** The admin API can create clients with secrets and keys at run time, so those methods count as configured. */
function adminApiEnabled(config: GatewayConfig): boolean {
  return config.admin.tokens.length > 0 || config.server.admin_token !== undefined;
}

/**
 * Turns a validated config into the tables the request path reads; done once per load (and once per change of the
 * clients created through the admin API, `storeClients`), never per request. A file client wins over a store client
 * with the same id.
 */
export function compileConfig(config: GatewayConfig, storeClients: readonly ClientEntry[] = []): CompiledConfig {
  const fileIds = new Set(config.clients.map((c) => c.id));
  const all: ClientEntry[] = [...config.clients, ...storeClients.filter((c) => !fileIds.has(c.id))];
  const configured = new Set<AuthMethod>();
  if (config.issuer || config.trusted_issuers.length > 0 || config.introspection) configured.add('bearer');
  if (all.some((c) => c.api_keys.length > 0)) configured.add('api_key');
  if (all.some((c) => c.secret_hash || c.secret || c.secrets)) configured.add('client_secret');
  if (adminApiEnabled(config) && configured.size > 0) {
    configured.add('api_key');
    configured.add('client_secret');
  }
  if (configured.size === 0) for (const m of AUTH_METHODS) configured.add(m);

  const apiKeys = new Map<string, CompiledApiKey>();
  for (const client of all) {
    for (const key of client.api_keys) {
      apiKeys.set(key.hash, {
        clientId: client.id,
        scopes: key.scopes ?? client.scopes,
        ...(key.id !== undefined ? { id: key.id } : {}),
        ...(key.expiresAt !== undefined ? { expiresAt: key.expiresAt } : {}),
      });
    }
  }
  const publicUrl = (config.server.public_url ?? config.issuer?.issuer ?? `http://${config.server.listen}`).replace(
    /\/$/,
    '',
  );
  return {
    config,
    routes: config.routes.map((r, i) => compileRoute(r, i, configured)),
    clients: new Map(all.map((c) => [c.id, c])),
    apiKeys,
    publicUrl,
    resourceMetadataUrl: `${publicUrl}/.well-known/oauth-protected-resource`,
    configuredAuth: configured,
    trustedProxies: trustedProxyList(config.server.trusted_proxies),
  };
}
