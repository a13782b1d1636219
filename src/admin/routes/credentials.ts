import { generateSecret, hashApiKey } from '../../auth/secret-hash.js';
import { audit, type AdminContext, type AdminRequest, type AdminResponse, type AdminRoute } from '../admin-context.js';
import { badRequest, notFound } from '../admin-error.js';
import { requireStoreClient, saveClient } from '../client-lookup.js';
import { parseBody, rotateSchema } from '../request-schemas.js';
import { viewCredential, type StoredClient, type StoredCredential } from '../../store/stored-client.js';
import { newCredentialId, newSecret } from '../credential-values.js';

/** Secrets (scrypt, `sec_` ids) and API keys (sha256, `key_` ids) share one lifecycle (SPEC.md 10). */
export type CredentialKind = 'secrets' | 'api_keys';

const NOUN: Record<CredentialKind, { one: string; response: string; list: string }> = {
  secrets: { one: 'secret', response: 'secret', list: 'secrets' },
  api_keys: { one: 'api_key', response: 'api_key', list: 'api_keys' },
};

/** Keep at most this many ended credentials per client, so a client's record stays small. */
const KEEP_ENDED = 4;

/**
 * Adds a credential and ends the older ones: the newest live one after `overlap`, any other at once, so at most two
 * are live. Pure: returns the new list.
 */
export function rotate(
  existing: readonly StoredCredential[],
  added: StoredCredential,
  overlapMs: number,
  now: number,
): StoredCredential[] {
  const live = existing.filter((c) => now < c.expires_at).sort((a, b) => b.created_at - a.created_at);
  const ends = new Map<string, number>();
  live.forEach((c, i) => ends.set(c.id, i === 0 ? Math.min(c.expires_at, now + overlapMs) : now));
  const updated = existing.map((c) => (ends.has(c.id) ? { ...c, expires_at: ends.get(c.id)! } : c));
  const ended = updated.filter((c) => now >= c.expires_at).sort((a, b) => b.expires_at - a.expires_at);
  const dropped = new Set(ended.slice(KEEP_ENDED).map((c) => c.id));
  return [...updated.filter((c) => !dropped.has(c.id)), added];
}

export async function issueCredential(
  kind: CredentialKind,
  req: AdminRequest,
  ctx: AdminContext,
): Promise<AdminResponse> {
  const found = await requireStoreClient(ctx, req);
  const input = parseBody(rotateSchema, req.body);
  const { admin } = ctx.runtime().compiled.config;
  const ttl = input.expires_in ?? admin.secret_ttl;
  if (ttl <= 0) throw badRequest('expires_in must be positive', 'expires_in');
  if (ttl > admin.secret_max_ttl) throw badRequest('expires_in is longer than admin.secret_max_ttl', 'expires_in');
  const overlap = input.overlap ?? admin.rotation_overlap;
  if (overlap > admin.secret_max_ttl) throw badRequest('overlap is longer than admin.secret_max_ttl', 'overlap');
  const now = ctx.services.now();
  let value: string;
  let record: StoredCredential;
  if (kind === 'secrets') ({ value, record } = await newSecret(now, ttl));
  else {
    value = generateSecret(32);
    record = { id: newCredentialId('key'), hash: hashApiKey(value), created_at: now, expires_at: now + ttl };
  }
  const next: StoredClient = { ...found.client, [kind]: rotate(found.client[kind], record, overlap, now) };
  await saveClient(ctx, next, found.version, false);
  await audit(ctx, req, {
    action: found.client[kind].length > 0 ? 'rotate' : 'create',
    target: { client: next.id, organizations: next.organizations ?? [], [NOUN[kind].one]: record.id },
    changes: {
      [kind]: { before: found.client[kind].map((c) => c.id), after: next[kind].map((c) => c.id) },
      overlap_seconds: { before: null, after: Math.round(overlap / 1000) },
    },
  });
  return {
    status: 201,
    body: {
      [NOUN[kind].response]: { id: record.id, value, expires_at: new Date(record.expires_at).toISOString() },
    },
  };
}

export async function listCredentials(
  kind: CredentialKind,
  req: AdminRequest,
  ctx: AdminContext,
): Promise<AdminResponse> {
  const found = await requireStoreClient(ctx, req);
  const used = await ctx.usage.lastUsed(found.client.id).catch(() => ({}) as Record<string, number>);
  const now = ctx.services.now();
  return {
    status: 200,
    body: { [NOUN[kind].list]: found.client[kind].map((c) => viewCredential(c, used[c.id], now)) },
  };
}

export async function deleteCredential(
  kind: CredentialKind,
  req: AdminRequest,
  ctx: AdminContext,
): Promise<AdminResponse> {
  const found = await requireStoreClient(ctx, req);
  const id = (kind === 'secrets' ? req.params.sid : req.params.kid)!;
  if (!found.client[kind].some((c) => c.id === id)) throw notFound(`no such ${NOUN[kind].one}`);
  const next: StoredClient = { ...found.client, [kind]: found.client[kind].filter((c) => c.id !== id) };
  await saveClient(ctx, next, found.version, false);
  await audit(ctx, req, {
    action: 'delete',
    target: { client: next.id, organizations: next.organizations ?? [], [NOUN[kind].one]: id },
    changes: { [kind]: { before: found.client[kind].map((c) => c.id), after: next[kind].map((c) => c.id) } },
  });
  return { status: 204 };
}

/** The three routes of one credential kind (SPEC.md 10): rotate (POST), list without values (GET), delete. */
export function credentialRoutes(
  kind: CredentialKind,
  segment: string,
  idParam: string,
  noun: { one: string; many: string },
): AdminRoute[] {
  const base = `/admin/clients/{id}/${segment}`;
  return [
    {
      method: 'POST',
      path: base,
      write: true,
      summary: `Rotate: add ${noun.one}, end the older one after the overlap`,
      handler: (req, ctx) => issueCredential(kind, req, ctx),
    },
    {
      method: 'GET',
      path: base,
      write: false,
      summary: `List ${noun.many} (never a value)`,
      handler: (req, ctx) => listCredentials(kind, req, ctx),
    },
    {
      method: 'DELETE',
      path: `${base}/{${idParam}}`,
      write: true,
      summary: `Delete ${noun.one}`,
      handler: (req, ctx) => deleteCredential(kind, req, ctx),
    },
  ];
}
