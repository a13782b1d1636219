/** Ids and values of generated credentials, and the audit diff of a client (secrets only as their ids). */
import { randomBytes } from 'node:crypto';
import { generateSecret, hashSecret } from '../auth/secret-hash.js';
import type { StoredClient, StoredCredential } from '../store/stored-client.js';

export const newCredentialId = (prefix: string) => `${prefix}_${randomBytes(9).toString('base64url')}`;

/** The fields of a client shown in audit diffs (secrets only as their ids). */
function auditable(client: StoredClient | undefined): Record<string, unknown> {
  if (!client) return {};
  const { secrets, api_keys, ...fields } = client;
  return { ...fields, secrets: secrets.map((s) => s.id), api_keys: api_keys.map((k) => k.id) };
}

/** before/after of every field that differs. */
export function diff(
  before: StoredClient | undefined,
  after: StoredClient | undefined,
): Record<string, { before: unknown; after: unknown }> {
  const a = auditable(before);
  const b = auditable(after);
  const changes: Record<string, { before: unknown; after: unknown }> = {};
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (JSON.stringify(a[key]) !== JSON.stringify(b[key]))
      changes[key] = { before: a[key] ?? null, after: b[key] ?? null };
  }
  return changes;
}

/** A new secret: 256 bits, URL-safe; only its scrypt hash is kept. */
export async function newSecret(now: number, ttl: number): Promise<{ value: string; record: StoredCredential }> {
  const value = generateSecret(32);
  return {
    value,
    record: { id: newCredentialId('sec'), hash: await hashSecret(value), created_at: now, expires_at: now + ttl },
  };
}
