import { createHash } from 'node:crypto';
import type { DocumentStore } from '../store/documents.js';

export const AUDIT_LOG = 'audit';
export const GENESIS_HASH = '0'.repeat(64);

/** What an admin action targets; `organizations` lets org admins see only their records. */
export interface AuditTarget {
  client?: string;
  organizations?: string[];
  secret?: string;
  api_key?: string;
}

/** SPEC.md 10: `{seq, at, actor, address, action, target, changes, prev_hash, hash}`. */
export interface AuditRecord {
  seq: number;
  at: string;
  actor: string | null;
  address: string | null;
  action: string;
  target: AuditTarget;
  /** before/after of the fields that changed; secrets and keys appear only as their id */
  changes: Record<string, { before: unknown; after: unknown }>;
  prev_hash: string;
  hash: string;
}

export type AuditInput = Omit<AuditRecord, 'seq' | 'at' | 'prev_hash' | 'hash'>;

/** JSON with object keys sorted at every level, so a record hashes the same wherever it is re-serialized. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** SHA-256 (hex) of the canonical JSON of the record without `hash` (prev_hash included, so records chain). */
export function recordHash(record: Omit<AuditRecord, 'hash'> & { hash?: string }): string {
  return createHash('sha256')
    .update(canonicalJson({ ...record, hash: undefined }))
    .digest('hex');
}

/**
 * Appends one record at the next seq, chained to the previous one. Two instances appending at once race for the
 * same seq; the loser reads the new last record and tries again.
 */
export async function appendAudit(docs: DocumentStore, input: AuditInput, now: number): Promise<AuditRecord> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const last = await docs.lastLogEntry(AUDIT_LOG);
    const prev = last ? (JSON.parse(last.body) as AuditRecord) : undefined;
    const unhashed = {
      seq: (last?.seq ?? 0) + 1,
      at: new Date(now).toISOString(),
      ...input,
      prev_hash: prev?.hash ?? GENESIS_HASH,
    };
    const record: AuditRecord = { ...unhashed, hash: recordHash(unhashed) };
    if (await docs.appendLogEntry(AUDIT_LOG, record.seq, JSON.stringify(record))) return record;
  }
  throw new Error('audit trail: could not append after 20 attempts');
}

/** The first record whose hash, chain link or seq is wrong, or undefined when the whole trail is intact. */
export async function verifyAudit(
  docs: DocumentStore,
): Promise<{ checked: number; broken?: { seq: number; reason: string } }> {
  let prevHash = GENESIS_HASH;
  let expectedSeq = 1;
  for (;;) {
    const page = await docs.readLog(AUDIT_LOG, expectedSeq, 500);
    if (page.length === 0) return { checked: expectedSeq - 1 };
    for (const entry of page) {
      let record: AuditRecord;
      try {
        record = JSON.parse(entry.body) as AuditRecord;
      } catch {
        return { checked: expectedSeq - 1, broken: { seq: entry.seq, reason: 'not JSON' } };
      }
      const fail = (reason: string) => ({ checked: expectedSeq - 1, broken: { seq: entry.seq, reason } });
      if (entry.seq !== expectedSeq || record.seq !== entry.seq) return fail('sequence number out of order');
      if (record.prev_hash !== prevHash) return fail('prev_hash does not match the previous record');
      if (record.hash !== recordHash(record)) return fail('hash does not match the record (altered)');
      prevHash = record.hash;
      expectedSeq++;
    }
  }
}

export interface AuditQuery {
  client?: string;
  organization?: string;
  actor?: string;
  since?: number;
  until?: number;
  /** seq to start from */
  cursor?: number;
  limit: number;
  /** an org admin's organizations: only records whose organizations all lie within them */
  within?: readonly string[];
}

/** A page of records matching the filters, oldest first; `next` is the seq to continue from. */
export async function queryAudit(
  docs: DocumentStore,
  query: AuditQuery,
): Promise<{ records: AuditRecord[]; next: string | null }> {
  const records: AuditRecord[] = [];
  let seq = query.cursor ?? 1;
  for (let scanned = 0; scanned < 20_000;) {
    const page = await docs.readLog(AUDIT_LOG, seq, 500);
    if (page.length === 0) return { records, next: null };
    for (const entry of page) {
      scanned++;
      seq = entry.seq + 1;
      const record = JSON.parse(entry.body) as AuditRecord;
      if (matches(record, query)) records.push(record);
      if (records.length >= query.limit) return { records, next: String(seq) };
    }
  }
  return { records, next: String(seq) };
}

function matches(record: AuditRecord, q: AuditQuery): boolean {
  const orgs = record.target.organizations ?? [];
  if (q.within && (orgs.length === 0 || !orgs.every((o) => q.within!.includes(o)))) return false;
  if (q.client !== undefined && record.target.client !== q.client) return false;
  if (q.organization !== undefined && !orgs.includes(q.organization)) return false;
  if (q.actor !== undefined && record.actor !== q.actor) return false;
  const at = Date.parse(record.at);
  if (q.since !== undefined && at < q.since) return false;
  if (q.until !== undefined && at >= q.until) return false;
  return true;
}
