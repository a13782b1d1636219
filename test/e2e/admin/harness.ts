/** A started gateway with the admin API, admin tokens for every role, two organizations and a recording upstream. */
import { randomBytes } from 'node:crypto';
import { hashApiKey, hashSecret } from '../../../src/auth/secret-hash.js';
import { startRecordingUpstream, type RecordingUpstream } from '../../helpers/recording-upstream.js';
import { startTestGateway, type TestGateway } from '../../helpers/test-gateway.js';

export const newToken = () => randomBytes(32).toString('base64url');

export interface AdminTokens {
  operator: string;
  berlin: string;
  munich: string;
  viewer: string;
  expired: string;
  legacy: string;
}

export const FILE_SECRET = 'file-client-secret-0123456789abcdef';

export async function adminConfig(
  upstream: string,
  tokens: AdminTokens,
  extra = '',
  failedAuthLimit = '20/min',
): Promise<string> {
  const fileHash = await hashSecret(FILE_SECRET);
  return `
server:
  realm: test-api
  admin_token: ${tokens.legacy}
  failed_auth_limit: ${failedAuthLimit}
issuer:
  issuer: http://gateway.test
  audience: test-api
  keys: ./keys
store: sqlite:./data/state.db
admin:
  tokens:
    - { id: ops, hash: "${hashApiKey(tokens.operator)}", role: operator }
    - { id: berlin-owner, hash: "${hashApiKey(tokens.berlin)}", role: org_admin, organizations: [rest-berlin] }
    - { id: munich-owner, hash: "${hashApiKey(tokens.munich)}", role: org_admin, organizations: [rest-munich] }
    - { id: auditor, hash: "${hashApiKey(tokens.viewer)}", role: viewer }
    - { id: old-ops, hash: "${hashApiKey(tokens.expired)}", role: operator, expires_at: 2020-01-01T00:00:00Z }
  secret_ttl: 30d
  secret_max_ttl: 90d
  rotation_overlap: 1h
organizations:
  rest-berlin: { name: Restaurant Berlin, licensed_scopes: [menu:read, reservations:read, reservations:write] }
  rest-munich: { name: Restaurant Munich, licensed_scopes: [menu:read, orders:read] }
clients:
  - id: file-client
    secret_hash: "${fileHash}"
    scopes: [menu:read]
    tenants: [rest-berlin]
upstreams:
  api: { url: ${upstream}, timeout: 2s }
routes:
  - path: /api/menu/**
    upstream: api
    scopes: { read: [menu:read], write: [menu:write] }
  - path: /api/organizations/:org/reservations/**
    upstream: api
    tenant_param: org
    scopes: { GET: [reservations:read], POST: [reservations:write] }
  - path: /api/orders/**
    upstream: api
    scopes: { read: [orders:read], write: [orders:write] }
  - path: /api/public/**
    upstream: api
    auth: none
${extra}`;
}

export interface AdminReply {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
  text: string;
}

export interface AdminHarness {
  gw: TestGateway;
  upstream: RecordingUpstream;
  tokens: AdminTokens;
  call(
    token: string | undefined,
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<AdminReply>;
  close(): Promise<void>;
}

export function newTokens(): AdminTokens {
  return {
    operator: newToken(),
    berlin: newToken(),
    munich: newToken(),
    viewer: newToken(),
    expired: newToken(),
    legacy: newToken(),
  };
}

export async function startAdminGateway(
  options: { dir?: string; tokens?: AdminTokens; extra?: string; failedAuthLimit?: string; adminListen?: string } = {},
): Promise<AdminHarness> {
  const upstream = await startRecordingUpstream();
  const tokens = options.tokens ?? newTokens();
  let gw: TestGateway;
  try {
    gw = await startTestGateway(await adminConfig(upstream.url, tokens, options.extra, options.failedAuthLimit), {
      dir: options.dir,
      adminListen: options.adminListen,
    });
  } catch (err) {
    await upstream.close();
    throw err;
  }
  return {
    gw,
    upstream,
    tokens,
    call: (token, method, path, body, headers = {}) => adminCall(gw.adminUrl!, token, method, path, body, headers),
    async close() {
      await gw.close();
      await upstream.close();
    },
  };
}

export async function adminCall(
  adminUrl: string,
  token: string | undefined,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<AdminReply> {
  const res = await fetch(`${adminUrl}${path}`, {
    method,
    headers: {
      ...(token === undefined ? {} : { Authorization: `Bearer ${token}` }),
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      ...headers,
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    parsed = {};
  }
  return { status: res.status, headers: res.headers, body: parsed, text };
}
