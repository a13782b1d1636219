import type { ChangeFeed, StoreChange } from './change-feed.js';
import type { LogEntry, StoredDocument } from './documents.js';
import { gcra } from './gcra.js';
import { mergeClientState, mergeRefreshRecord, sameClientState, sameRefreshRecord } from './state-merge.js';
import type { ClientState, CounterResult, RateResult, RefreshRecord, StateItem, Store } from './store.js';

/** Same grace as the SQLite store: keep a revoked jti past `exp` while the verifier's leeway could still accept it. */
const REVOKED_JTI_GRACE_MS = 5 * 60_000;
const PURGE_EVERY = 1000;

export interface MemoryStoreOptions {
  /**
   * Most counters held at once (default 100 000). Beyond it the oldest windows are dropped first, which resets
   * those counters: a bound on memory, not a security boundary.
   */
  maxCounters?: number;
}

interface Counter {
  count: number;
  resetAt: number;
}

interface Family {
  hashes: Set<string>;
  revoked: boolean;
}

/**
 * State in this process only (store URL `memory:`): for tests, demos and single-instance gateways that may forget
 * revocations on restart. Same semantics as the SQLite store; bounded by purging what has expired.
 */
export class MemoryStore implements Store, ChangeFeed {
  readonly shared = false;
  private readonly listeners = new Set<(change: StoreChange) => void>();
  private readonly documents = new Map<string, StoredDocument>();
  private readonly logs = new Map<string, string[]>();
  private readonly rates = new Map<string, number>();
  private readonly clients = new Map<string, ClientState>();
  private readonly revokedTokens = new Map<string, number>();
  private readonly refresh = new Map<string, RefreshRecord>();
  private readonly families = new Map<string, Family>();
  private readonly counters = new Map<string, Counter>();
  private readonly maxCounters: number;
  private incrementsSincePurge = 0;
  private writesSincePurge = 0;
  private closed = false;

  constructor(options: MemoryStoreOptions = {}) {
    this.maxCounters = options.maxCounters ?? 100_000;
  }

  async getClientState(clientId: string): Promise<ClientState> {
    this.assertOpen();
    return { ...this.clients.get(clientId) };
  }

  async revokeClient(clientId: string, at: number): Promise<void> {
    this.assertOpen();
    const prev = this.clients.get(clientId);
    const notBefore = prev?.notBefore !== undefined ? Math.max(prev.notBefore, at) : at;
    this.clients.set(clientId, { revokedAt: at, notBefore });
    this.emit({ kind: 'client', id: clientId });
  }

  async restoreClient(clientId: string): Promise<void> {
    this.assertOpen();
    const prev = this.clients.get(clientId);
    if (!prev) return;
    const next: ClientState = {};
    if (prev.notBefore !== undefined) next.notBefore = prev.notBefore;
    this.clients.set(clientId, next);
    this.emit({ kind: 'client', id: clientId });
  }

  async revokeToken(jti: string, expiresAt: number): Promise<void> {
    this.assertOpen();
    this.revokedTokens.set(jti, Math.max(this.revokedTokens.get(jti) ?? expiresAt, expiresAt));
    this.afterWrite();
    this.emit({ kind: 'token', id: jti });
  }

  async isTokenRevoked(jti: string): Promise<boolean> {
    this.assertOpen();
    const expiresAt = this.revokedTokens.get(jti);
    if (expiresAt === undefined) return false;
    if (expiresAt < Date.now() - REVOKED_JTI_GRACE_MS) {
      this.revokedTokens.delete(jti);
      return false;
    }
    return true;
  }

  async saveRefreshToken(record: RefreshRecord): Promise<void> {
    this.assertOpen();
    const old = this.refresh.get(record.hash);
    if (old) this.unlink(old);
    let family = this.families.get(record.familyId);
    if (!family) {
      family = { hashes: new Set(), revoked: false };
      this.families.set(record.familyId, family);
    }
    family.hashes.add(record.hash);
    // A token saved into a family that is already revoked is born revoked (same rule as the SQLite store).
    this.refresh.set(record.hash, { ...copy(record), revoked: record.revoked || family.revoked });
    if (record.revoked) family.revoked = true;
    this.afterWrite();
  }

  async findRefreshToken(hash: string): Promise<RefreshRecord | undefined> {
    this.assertOpen();
    const record = this.refresh.get(hash);
    return record ? copy(record) : undefined;
  }

  async markRefreshTokenUsed(hash: string, at: number): Promise<boolean> {
    this.assertOpen();
    const record = this.refresh.get(hash);
    if (!record || record.usedAt !== undefined) return false;
    record.usedAt = at;
    return true;
  }

  async revokeRefreshFamily(familyId: string): Promise<void> {
    this.assertOpen();
    const family = this.families.get(familyId);
    if (!family) return;
    family.revoked = true;
    for (const hash of family.hashes) {
      const record = this.refresh.get(hash);
      if (record) record.revoked = true;
    }
    this.emit({ kind: 'family', id: familyId });
  }

  async rotateRefreshToken(usedHash: string, at: number, successor: RefreshRecord): Promise<boolean> {
    this.assertOpen();
    const used = this.refresh.get(usedHash);
    if (!used || used.usedAt !== undefined) {
      if (used) await this.revokeRefreshFamily(used.familyId);
      return false;
    }
    used.usedAt = at;
    await this.saveRefreshToken(successor);
    return true;
  }

  async consumeRate(key: string, limit: number, windowMs: number, burst: number, now: number): Promise<RateResult> {
    this.assertOpen();
    const { tat, ...result } = gcra(this.rates.get(key), now, limit, windowMs, burst);
    if (result.allowed) {
      if (this.rates.size >= this.maxCounters) {
        for (const [k, t] of this.rates) if (t <= now) this.rates.delete(k);
        if (this.rates.size >= this.maxCounters) this.rates.clear();
      }
      this.rates.set(key, tat);
    }
    return result;
  }

  async getDocument(kind: string, id: string): Promise<StoredDocument | undefined> {
    this.assertOpen();
    const doc = this.documents.get(docKey(kind, id));
    return doc ? { ...doc } : undefined;
  }

  async listDocuments(kind: string): Promise<StoredDocument[]> {
    this.assertOpen();
    return [...this.documents.values()]
      .filter((d) => d.kind === kind)
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .map((d) => ({ ...d }));
  }

  async putDocument(kind: string, id: string, body: string, expectedVersion: number): Promise<number | undefined> {
    this.assertOpen();
    const key = docKey(kind, id);
    if ((this.documents.get(key)?.version ?? 0) !== expectedVersion) return undefined;
    const version = expectedVersion + 1;
    this.documents.set(key, { kind, id, version, body });
    this.emit({ kind: 'document', docKind: kind, id });
    return version;
  }

  async deleteDocument(kind: string, id: string, expectedVersion?: number): Promise<boolean> {
    this.assertOpen();
    const key = docKey(kind, id);
    const doc = this.documents.get(key);
    if (!doc || (expectedVersion !== undefined && doc.version !== expectedVersion)) return false;
    this.documents.delete(key);
    this.emit({ kind: 'document', docKind: kind, id });
    return true;
  }

  async lastLogEntry(log: string): Promise<LogEntry | undefined> {
    this.assertOpen();
    const entries = this.logs.get(log);
    if (!entries || entries.length === 0) return undefined;
    return { seq: entries.length, body: entries[entries.length - 1]! };
  }

  async appendLogEntry(log: string, seq: number, body: string): Promise<boolean> {
    this.assertOpen();
    let entries = this.logs.get(log);
    if (!entries) {
      entries = [];
      this.logs.set(log, entries);
    }
    if (seq !== entries.length + 1) return false;
    entries.push(body);
    return true;
  }

  async readLog(log: string, fromSeq: number, limit: number): Promise<LogEntry[]> {
    this.assertOpen();
    const entries = this.logs.get(log) ?? [];
    const start = Math.max(1, Math.floor(fromSeq));
    const out: LogEntry[] = [];
    for (let seq = start; seq <= entries.length && out.length < limit; seq++)
      out.push({ seq, body: entries[seq - 1]! });
    return out;
  }

  onChange(listener: (change: StoreChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async *exportState(): AsyncIterable<StateItem> {
    this.assertOpen();
    for (const [id, state] of this.clients) yield { type: 'client', id, state: { ...state } };
    const now = Date.now();
    for (const [jti, expiresAt] of this.revokedTokens) {
      if (expiresAt >= now - REVOKED_JTI_GRACE_MS) yield { type: 'jti', jti, expiresAt };
    }
    for (const record of this.refresh.values()) yield { type: 'refresh', record: copy(record) };
    for (const doc of this.documents.values()) yield { type: 'document', doc: { ...doc } };
    for (const [log, entries] of this.logs) {
      for (let i = 0; i < entries.length; i++) yield { type: 'log', log, entry: { seq: i + 1, body: entries[i]! } };
    }
  }

  async importState(item: StateItem): Promise<boolean> {
    this.assertOpen();
    switch (item.type) {
      case 'client': {
        const prev = this.clients.get(item.id) ?? {};
        const merged = mergeClientState(prev, item.state);
        if (sameClientState(prev, merged)) return false;
        this.clients.set(item.id, merged);
        this.emit({ kind: 'client', id: item.id });
        return true;
      }
      case 'jti': {
        const prev = this.revokedTokens.get(item.jti);
        if (prev !== undefined && prev >= item.expiresAt) return false;
        await this.revokeToken(item.jti, item.expiresAt);
        return true;
      }
      case 'refresh': {
        const prev = this.refresh.get(item.record.hash);
        const merged = mergeRefreshRecord(prev, item.record);
        if (sameRefreshRecord(prev, merged)) return false;
        await this.saveRefreshToken(merged);
        return true;
      }
      case 'document': {
        const prev = this.documents.get(docKey(item.doc.kind, item.doc.id));
        if (prev && prev.version >= item.doc.version) return false;
        this.documents.set(docKey(item.doc.kind, item.doc.id), { ...item.doc });
        this.emit({ kind: 'document', docKind: item.doc.kind, id: item.doc.id });
        return true;
      }
      case 'log':
        return this.appendLogEntry(item.log, item.entry.seq, item.entry.body);
    }
  }

  async incrementCounter(key: string, windowMs: number, now: number): Promise<CounterResult> {
    this.assertOpen();
    if (!Number.isFinite(windowMs) || windowMs <= 0) throw new Error(`invalid counter window ${windowMs}`);
    const windowStart = Math.floor(now / windowMs) * windowMs;
    const resetAt = windowStart + windowMs;
    const id = `${windowMs}\u0000${windowStart}\u0000${key}`;
    let counter = this.counters.get(id);
    if (!counter) {
      if (++this.incrementsSincePurge >= PURGE_EVERY || this.counters.size >= this.maxCounters) {
        this.incrementsSincePurge = 0;
        this.purgeCounters(now);
      }
      counter = { count: 0, resetAt };
      this.counters.set(id, counter);
    }
    counter.count += 1;
    return { count: counter.count, resetAt };
  }

  /** Deletes ended counter windows, revoked jtis past expiry (plus grace) and refresh tokens past expiry. */
  async purge(now: number = Date.now()): Promise<void> {
    this.assertOpen();
    this.purgeCounters(now);
    this.purgeExpired(now);
  }

  /** How many entries are held, for tests of the bounds. */
  size(): { clients: number; revokedTokens: number; refreshTokens: number; families: number; counters: number } {
    return {
      clients: this.clients.size,
      revokedTokens: this.revokedTokens.size,
      refreshTokens: this.refresh.size,
      families: this.families.size,
      counters: this.counters.size,
    };
  }

  async ping(): Promise<void> {
    this.assertOpen();
  }

  async probeWrite(): Promise<void> {
    this.assertOpen();
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private emit(change: StoreChange): void {
    for (const listener of [...this.listeners]) listener(change);
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('store is closed');
  }

  private afterWrite(): void {
    if (++this.writesSincePurge < PURGE_EVERY) return;
    this.writesSincePurge = 0;
    this.purgeExpired(Date.now());
  }

  private purgeCounters(now: number): void {
    for (const [id, counter] of this.counters) {
      if (counter.resetAt <= now) this.counters.delete(id);
    }
    // Still at the bound: drop the oldest tenth (Map order is insertion order, so oldest windows first), so that a
    // flood of new keys pays for one scan per many inserts rather than one per insert.
    if (this.counters.size < this.maxCounters) return;
    const excess = this.counters.size - Math.floor(this.maxCounters * 0.9);
    if (excess <= 0) return;
    let dropped = 0;
    for (const id of this.counters.keys()) {
      if (dropped++ >= excess) break;
      this.counters.delete(id);
    }
  }

  private purgeExpired(now: number): void {
    for (const [jti, expiresAt] of this.revokedTokens) {
      if (expiresAt < now - REVOKED_JTI_GRACE_MS) this.revokedTokens.delete(jti);
    }
    for (const record of this.refresh.values()) {
      if (record.expiresAt < now) {
        this.refresh.delete(record.hash);
        this.unlink(record);
      }
    }
  }

  /** Removes a record from its family, and the family once it is empty. */
  private unlink(record: RefreshRecord): void {
    const family = this.families.get(record.familyId);
    if (!family) return;
    family.hashes.delete(record.hash);
    if (family.hashes.size === 0) this.families.delete(record.familyId);
  }
}

function docKey(kind: string, id: string): string {
  return `${kind}\u0000${id}`;
}

function copy(record: RefreshRecord): RefreshRecord {
  return { ...record, scopes: [...record.scopes] };
}
