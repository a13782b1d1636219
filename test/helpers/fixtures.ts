import { hashApiKey, hashSecret } from '../../src/auth/secret-hash.js';

/** Credentials used across the e2e suite; every log line is checked for them. */
export const SECRETS = {
  posSecret: 'pos-secret-with-enough-entropy-123',
  bookingSecret: 'booking-secret-with-entropy-4567',
  menuKey: 'menu-key-abcdefghijklmnopqrstuvwxyz012345',
  fullKey: 'full-key-abcdefghijklmnopqrstuvwxyz012345',
  adminToken: 'admin-token-for-tests-0123456789',
};

let hashes: Promise<{ pos: string; booking: string }> | undefined;

function secretHashes() {
  hashes ??= Promise.all([hashSecret(SECRETS.posSecret), hashSecret(SECRETS.bookingSecret)]).then(([pos, booking]) => ({
    pos,
    booking,
  }));
  return hashes;
}

export interface FixtureOptions {
  upstream: string;
  mode?: 'enforce' | 'report';
  extraRoutes?: string;
  extraClients?: string;
  serverExtra?: string;
  issuerExtra?: string;
}

/**
 * The standard e2e config: a local issuer, two clients (one tenant-bound), API keys, and routes covering every
 * scope form of SPEC.md section 2. The issuer URL is a placeholder: tokens are checked against `iss`, not the port.
 */
export async function standardConfig(o: FixtureOptions): Promise<string> {
  const h = await secretHashes();
  return `
server:
  listen: 127.0.0.1:0
  realm: restaurant-api
  admin_token: ${SECRETS.adminToken}
  mode: ${o.mode ?? 'enforce'}
${o.serverExtra ?? ''}
issuer:
  issuer: http://gateway.test
  audience: restaurant-api
  token_paths: [/oauth/token, /v1/security/oauth2/token]
  keys: ./keys
  access_token_ttl: 30m
${o.issuerExtra ?? ''}
store: sqlite:./data/state.db
clients:
  - id: pos
    name: POS Partner
    secret_hash: "${h.pos}"
    scopes: [menu:read, orders:read, orders:write]
    refresh_tokens: true
    api_keys:
      - hash: "${hashApiKey(SECRETS.menuKey)}"
        scopes: [menu:read]
      - hash: "${hashApiKey(SECRETS.fullKey)}"
  - id: booking
    secret_hash: "${h.booking}"
    scopes: [reservations:read, reservations:write, menu:read]
    tenants: [rest-berlin, rest-munich]
${o.extraClients ?? ''}
upstreams:
  restaurant:
    url: ${o.upstream}
    timeout: 2s
routes:
${o.extraRoutes ?? ''}
  - path: /api/menu/**
    upstream: restaurant
    strip_prefix: /api
    scopes:
      read: [menu:read]
      write: [menu:write]
  - path: /api/orders/**
    upstream: restaurant
    strip_prefix: /api
    scopes: { read: [orders:read], POST: [orders:write] }
  - path: /api/organizations/:org/reservations/**
    upstream: restaurant
    strip_prefix: /api
    tenant_param: org
    scopes: { GET: [reservations:read], POST: [reservations:write] }
  - path: /api/either/**
    upstream: restaurant
    scopes: { read: { any: [orders:read, reservations:read] } }
  - path: /api/keys-only/**
    upstream: restaurant
    auth: [api_key]
    scopes: [menu:read]
  - path: /api/public/**
    upstream: restaurant
    strip_prefix: /api
    auth: none
`;
}
