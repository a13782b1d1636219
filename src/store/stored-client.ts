import type { ClientEntry } from '../config/compile-config.js';
import type { ClientConfig } from '../config/schema.js';
import { parseRate } from '../config/units.js';
import type { ClientState } from '../store/store.js';

/** A secret or API key as stored: only its hash (scrypt for secrets, `sha256:` for keys). Times in ms. */
export interface StoredCredential {
  id: string;
  hash: string;
  created_at: number;
  expires_at: number;
}

/** The body of a `client` document (DocumentStore kind `client`). */
export interface StoredClient {
  id: string;
  name: string;
  provider_url?: string;
  contact?: string;
  organizations?: string[];
  scopes: string[];
  refresh_tokens: boolean;
  /** as written, e.g. `50/s` */
  rate_limit?: string;
  expires_at?: number;
  created_at: number;
  secrets: StoredCredential[];
  api_keys: StoredCredential[];
}

export const CLIENT_KIND = 'client';

/** The request path's view of a store client: its live secrets and keys with their expiries. */
export function toClientEntry(client: StoredClient): ClientEntry {
  const rate = client.rate_limit === undefined ? undefined : parseRate(client.rate_limit);
  return {
    id: client.id,
    name: client.name,
    scopes: client.scopes,
    ...(client.organizations && client.organizations.length > 0 ? { tenants: client.organizations } : {}),
    refresh_tokens: client.refresh_tokens,
    ...(client.expires_at !== undefined ? { expires_at: client.expires_at } : {}),
    ...(rate ? { rate_limit: rate } : {}),
    api_keys: client.api_keys.map((k) => ({ hash: k.hash, id: k.id, expiresAt: k.expires_at })),
    secrets: client.secrets.map((s) => ({ id: s.id, hash: s.hash, expiresAt: s.expires_at })),
    source: 'store',
  };
}

/** The facts the API's client object is made of, for a file client or a store client. */
export interface ClientView {
  id: string;
  name: string | null;
  provider_url: string | null;
  contact: string | null;
  organizations: string[];
  scopes: string[];
  refresh_tokens: boolean;
  rate_limit: string | null;
  expires_at: string | null;
  status: 'active' | 'revoked' | 'expired';
  source: 'file' | 'store';
  created_at: string | null;
}

function iso(ms: number | undefined): string | null {
  return ms === undefined ? null : new Date(ms).toISOString();
}

function statusOf(expiresAt: number | undefined, state: ClientState, now: number): ClientView['status'] {
  if (state.revokedAt !== undefined) return 'revoked';
  if (expiresAt !== undefined && now >= expiresAt) return 'expired';
  return 'active';
}

/** SPEC.md 10's `client` object for a store client. */
export function viewStoreClient(client: StoredClient, state: ClientState, now: number): ClientView {
  return {
    id: client.id,
    name: client.name,
    provider_url: client.provider_url ?? null,
    contact: client.contact ?? null,
    organizations: client.organizations ?? [],
    scopes: client.scopes,
    refresh_tokens: client.refresh_tokens,
    rate_limit: client.rate_limit ?? null,
    expires_at: iso(client.expires_at),
    status: statusOf(client.expires_at, state, now),
    source: 'store',
    created_at: iso(client.created_at),
  };
}

function rateText(rate: ClientConfig['rate_limit']): string | null {
  if (!rate) return null;
  const unit = rate.windowMs === 1000 ? 's' : rate.windowMs === 60_000 ? 'min' : rate.windowMs === 3_600_000 ? 'h' : '';
  return unit ? `${rate.limit}/${unit}` : `${rate.limit}/${rate.windowMs}ms`;
}

/** SPEC.md 10's `client` object for a client from gateway.yaml (read-only here). */
export function viewFileClient(client: ClientConfig, state: ClientState, now: number): ClientView {
  return {
    id: client.id,
    name: client.name ?? null,
    provider_url: null,
    contact: null,
    organizations: client.tenants ?? [],
    scopes: client.scopes,
    refresh_tokens: client.refresh_tokens,
    rate_limit: rateText(client.rate_limit),
    expires_at: iso(client.expires_at),
    status: statusOf(client.expires_at, state, now),
    source: 'file',
    created_at: null,
  };
}

/** A secret or key as listed: never its hash or value. */
export function viewCredential(
  credential: StoredCredential,
  lastUsedAt: number | undefined,
  now: number,
): { id: string; created_at: string; expires_at: string; last_used_at: string | null; status: 'active' | 'expired' } {
  return {
    id: credential.id,
    created_at: new Date(credential.created_at).toISOString(),
    expires_at: new Date(credential.expires_at).toISOString(),
    last_used_at: iso(lastUsedAt),
    status: now < credential.expires_at ? 'active' : 'expired',
  };
}
