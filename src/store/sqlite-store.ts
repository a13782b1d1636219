import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { ChangeFeed, StoreChange } from './change-feed.js';
import type { LogEntry, StoredDocument } from './documents.js';
import { gcra } from './gcra.js';
import { mergeClientState, mergeRefreshRecord, sameClientState, sameRefreshRecord } from './state-merge.js';
import type { ClientState, CounterResult, RateResult, RefreshRecord, StateItem, Store } from './store.js';
import { StoreUnavailableError, storeUnavailable } from './store-unavailable.js';

/**
 * Bumped whenever the tables below change shape; stored in `PRAGMA user_version`. 2 added `documents`, `logs`, the
 * `changes` counter (with its triggers) and the `heartbeat` row that readiness writes; the schema is written with IF NOT EXISTS, so opening a version-1 file
 * adds them and keeps every row.
 */
export const SCHEMA_VERSION = 2;

/** How often the change counter is polled (ChangeFeed): other processes on this file are noticed this fast. */
const CHANGE_POLL_MS = 100;

/** Purge ended counter windows after this many increments, expired rows after this many writes. */
const PURGE_EVERY = 1000;

/**
 * A revoked jti is kept this long past the token's expiry, because the verifier accepts `exp` with a leeway (30 s):
 * dropping the row at `exp` exactly would let a revoked token through for the length of that leeway.
 */
export const REVOKED_JTI_GRACE_MS = 5 * 60_000;

export interface SqliteStoreOptions {
  /**
   * how long a write waits for another process's lock before it rejects with StoreUnavailableError (ms); default
   * 2000. The wait is asynchronous (retries with backoff): it never blocks the event loop.
   */
  busyTimeoutMs?: number;
}

/** First and largest pause between two attempts of a statement that found the database locked (ms). */
const RETRY_FIRST_MS = 2;
const RETRY_MAX_MS = 50;

/** Another connection holds the lock: worth another try. Anything else (full, read-only, I/O) fails at once. */
function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
}

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

interface ClientRow {
  revoked_at: number | null;
  not_before: number | null;
}

/** A refresh_tokens row, as read and as bound when written. */
interface RefreshRow {
  hash: string;
  family_id: string;
  client_id: string;
  scopes: string;
  tenant: string | null;
  issued_at: number;
  expires_at: number;
  used_at: number | null;
  revoked: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS clients (
  client_id  TEXT PRIMARY KEY,
  revoked_at INTEGER,
  not_before INTEGER
);
CREATE TABLE IF NOT EXISTS revoked_tokens (
  jti        TEXT PRIMARY KEY,
  expires_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS revoked_tokens_expires ON revoked_tokens (expires_at);
CREATE TABLE IF NOT EXISTS refresh_tokens (
  hash       TEXT PRIMARY KEY,
  family_id  TEXT NOT NULL,
  client_id  TEXT NOT NULL,
  scopes     TEXT NOT NULL,
  tenant     TEXT,
  issued_at  INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at    INTEGER,
  revoked    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX IF NOT EXISTS refresh_tokens_expires ON refresh_tokens (expires_at);
CREATE TABLE IF NOT EXISTS counters (
  key          TEXT NOT NULL,
  window_ms    INTEGER NOT NULL,
  window_start INTEGER NOT NULL,
  reset_at     INTEGER NOT NULL,
  count        INTEGER NOT NULL,
  PRIMARY KEY (key, window_ms, window_start)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS counters_reset ON counters (reset_at);
CREATE TABLE IF NOT EXISTS documents (
  kind    TEXT NOT NULL,
  id      TEXT NOT NULL,
  version INTEGER NOT NULL,
  body    TEXT NOT NULL,
  PRIMARY KEY (kind, id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS logs (
  log  TEXT NOT NULL,
  seq  INTEGER NOT NULL,
  body TEXT NOT NULL,
  PRIMARY KEY (log, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS changes (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  n  INTEGER NOT NULL
);
INSERT OR IGNORE INTO changes (id, n) VALUES (1, 0);
CREATE TRIGGER IF NOT EXISTS clients_changed_insert AFTER INSERT ON clients
  BEGIN UPDATE changes SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER IF NOT EXISTS clients_changed_update AFTER UPDATE ON clients
  BEGIN UPDATE changes SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER IF NOT EXISTS tokens_changed AFTER INSERT ON revoked_tokens
  BEGIN UPDATE changes SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER IF NOT EXISTS families_changed AFTER UPDATE OF revoked ON refresh_tokens
  WHEN new.revoked = 1 AND old.revoked = 0
  BEGIN UPDATE changes SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER IF NOT EXISTS documents_changed_insert AFTER INSERT ON documents
  BEGIN UPDATE changes SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER IF NOT EXISTS documents_changed_update AFTER UPDATE ON documents
  BEGIN UPDATE changes SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER IF NOT EXISTS documents_changed_delete AFTER DELETE ON documents
  BEGIN UPDATE changes SET n = n + 1 WHERE id = 1; END;
CREATE TABLE IF NOT EXISTS heartbeat (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  at INTEGER NOT NULL
);
`;

function statements(db: Database.Database) {
  return {
    ping: db.prepare('SELECT 1'),
    heartbeat: db.prepare<[number]>(
      'INSERT INTO heartbeat (id, at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET at = excluded.at',
    ),
    getClient: db.prepare<[string], ClientRow>('SELECT revoked_at, not_before FROM clients WHERE client_id = ?'),
    revokeClient: db.prepare<[string, number, number]>(
      `INSERT INTO clients (client_id, revoked_at, not_before) VALUES (?, ?, ?)
       ON CONFLICT (client_id) DO UPDATE SET
         revoked_at = excluded.revoked_at,
         not_before = max(coalesce(not_before, excluded.not_before), excluded.not_before)`,
    ),
    restoreClient: db.prepare<[string]>('UPDATE clients SET revoked_at = NULL WHERE client_id = ?'),
    revokeToken: db.prepare<[string, number]>(
      `INSERT INTO revoked_tokens (jti, expires_at) VALUES (?, ?)
       ON CONFLICT (jti) DO UPDATE SET expires_at = max(expires_at, excluded.expires_at)`,
    ),
    isTokenRevoked: db.prepare<[string, number], { one: number }>(
      'SELECT 1 AS one FROM revoked_tokens WHERE jti = ? AND expires_at >= ?',
    ),
    // A token saved into a family that is already revoked (a refresh racing a replay elsewhere) is born revoked.
    saveRefresh: db.prepare<[RefreshRow]>(
      `INSERT OR REPLACE INTO refresh_tokens
         (hash, family_id, client_id, scopes, tenant, issued_at, expires_at, used_at, revoked)
       VALUES (@hash, @family_id, @client_id, @scopes, @tenant, @issued_at, @expires_at, @used_at,
         @revoked OR EXISTS (SELECT 1 FROM refresh_tokens WHERE family_id = @family_id AND revoked = 1))`,
    ),
    findRefresh: db.prepare<[string], RefreshRow>('SELECT * FROM refresh_tokens WHERE hash = ?'),
    markRefreshUsed: db.prepare<[number, string]>(
      'UPDATE refresh_tokens SET used_at = ? WHERE hash = ? AND used_at IS NULL',
    ),
    revokeFamily: db.prepare<[string]>('UPDATE refresh_tokens SET revoked = 1 WHERE family_id = ?'),
    increment: db.prepare<[string, number, number, number], { count: number }>(
      `INSERT INTO counters (key, window_ms, window_start, reset_at, count) VALUES (?, ?, ?, ?, 1)
       ON CONFLICT (key, window_ms, window_start) DO UPDATE SET count = count + 1
       RETURNING count`,
    ),
    purgeCounters: db.prepare<[number]>('DELETE FROM counters WHERE reset_at <= ?'),
    purgeRevokedTokens: db.prepare<[number]>('DELETE FROM revoked_tokens WHERE expires_at < ?'),
    purgeRefresh: db.prepare<[number]>('DELETE FROM refresh_tokens WHERE expires_at < ?'),
    changeCount: db.prepare<[], { n: number }>('SELECT n FROM changes WHERE id = 1'),
    getDocument: db.prepare<[string, string], StoredDocument>(
      'SELECT kind, id, version, body FROM documents WHERE kind = ? AND id = ?',
    ),
    listDocuments: db.prepare<[string], StoredDocument>(
      'SELECT kind, id, version, body FROM documents WHERE kind = ? ORDER BY id',
    ),
    allDocuments: db.prepare<[], StoredDocument>('SELECT kind, id, version, body FROM documents'),
    insertDocument: db.prepare<[string, string, string]>(
      'INSERT INTO documents (kind, id, version, body) VALUES (?, ?, 1, ?) ON CONFLICT (kind, id) DO NOTHING',
    ),
    updateDocument: db.prepare<[string, string, string, number]>(
      'UPDATE documents SET version = version + 1, body = ? WHERE kind = ? AND id = ? AND version = ?',
    ),
    importDocument: db.prepare<[string, string, number, string, number]>(
      `INSERT INTO documents (kind, id, version, body) VALUES (?, ?, ?, ?)
       ON CONFLICT (kind, id) DO UPDATE SET version = excluded.version, body = excluded.body WHERE version < ?`,
    ),
    deleteDocument: db.prepare<[string, string]>('DELETE FROM documents WHERE kind = ? AND id = ?'),
    deleteDocumentAt: db.prepare<[string, string, number]>(
      'DELETE FROM documents WHERE kind = ? AND id = ? AND version = ?',
    ),
    lastLogEntry: db.prepare<[string], LogEntry>('SELECT seq, body FROM logs WHERE log = ? ORDER BY seq DESC LIMIT 1'),
    appendLog: db.prepare<[string, number, string, string, number]>(
      `INSERT OR IGNORE INTO logs (log, seq, body) SELECT ?, ?, ?
       WHERE coalesce((SELECT max(seq) FROM logs WHERE log = ?), 0) = ? - 1`,
    ),
    readLog: db.prepare<[string, number, number], LogEntry>(
      'SELECT seq, body FROM logs WHERE log = ? AND seq >= ? ORDER BY seq LIMIT ?',
    ),
    allLogs: db.prepare<[], LogEntry & { log: string }>('SELECT log, seq, body FROM logs ORDER BY log, seq'),
    allClients: db.prepare<[], ClientRow & { client_id: string }>('SELECT * FROM clients'),
    allRevokedTokens: db.prepare<[number], { jti: string; expires_at: number }>(
      'SELECT jti, expires_at FROM revoked_tokens WHERE expires_at >= ?',
    ),
    allRefresh: db.prepare<[], RefreshRow>('SELECT * FROM refresh_tokens'),
    setClient: db.prepare<[string, number | null, number | null]>(
      `INSERT INTO clients (client_id, revoked_at, not_before) VALUES (?, ?, ?)
       ON CONFLICT (client_id) DO UPDATE SET revoked_at = excluded.revoked_at, not_before = excluded.not_before`,
    ),
  };
}

type Statements = ReturnType<typeof statements>;

interface Connection {
  db: Database.Database;
  stmt: Statements;
  /** identity of the file that was opened, to notice when it is removed or replaced underneath us */
  dev: number;
  ino: number;
}

/**
 * The embedded default store: one SQLite file (WAL mode) that several gateway processes on one host may share.
 * better-sqlite3 is synchronous, so nothing here may wait inside SQLite: the busy timeout is 0 once the file is
 * open. Reads never wait in WAL mode (readers see the last committed state while another process writes). A
 * statement that finds the database locked by another connection is retried asynchronously, with a growing
 * jittered pause, for up to `busyTimeoutMs`; the event loop keeps serving other requests meanwhile. Every failure
 * (lock held beyond the bound, disk full, file read-only, removed or unopenable, store closed) is a rejection with
 * StoreUnavailableError, never a synchronous throw.
 *
 * The constructor opens the file (creating its folder and the schema) and throws when it cannot: that is a startup
 * error. `openStore` turns it into a rejected promise.
 */
export class SqliteStore implements Store, ChangeFeed {
  readonly shared = false;
  readonly filePath: string;
  private readonly listeners = new Set<(change: StoreChange) => void>();
  private poller: NodeJS.Timeout | undefined;
  private lastChangeCount: number | undefined;
  /** GCRA state of `consumeRate`: per process (the client rate limit is per instance with a local store) */
  private readonly rates = new Map<string, number>();
  private readonly busyTimeoutMs: number;
  private conn: Connection | undefined;
  private closed = false;
  private incrementsSincePurge = 0;
  private writesSincePurge = 0;

  constructor(filePath: string, options: SqliteStoreOptions = {}) {
    this.filePath = path.resolve(filePath);
    this.busyTimeoutMs = options.busyTimeoutMs ?? 2000;
    this.conn = this.open();
    this.bestEffort(() => this.purgeExpired(Date.now()));
  }

  private open(): Connection {
    fs.mkdirSync(path.dirname(this.filePath), { recursive: true });
    const db = new Database(this.filePath, { timeout: this.busyTimeoutMs });
    try {
      // Opening (WAL switch, schema) may wait for another process, synchronously: it happens at start, or when
      // the file was replaced. Afterwards the timeout is 0 and waits are asynchronous (`attempt`).
      db.pragma(`busy_timeout = ${Math.max(0, Math.floor(this.busyTimeoutMs))}`);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      const version = db.pragma('user_version', { simple: true }) as number;
      if (version > SCHEMA_VERSION) {
        throw new Error(
          `store ${this.filePath} has schema version ${version}, newer than this scopegate supports (${SCHEMA_VERSION})`,
        );
      }
      if (version < SCHEMA_VERSION) {
        // IMMEDIATE takes the write lock up front, so two processes opening a new file at once do not collide.
        db.transaction(() => {
          db.exec(SCHEMA);
          db.pragma(`user_version = ${SCHEMA_VERSION}`);
        }).immediate();
      }
      const st = fs.statSync(this.filePath);
      const stmt = statements(db);
      db.pragma('busy_timeout = 0');
      return { db, stmt, dev: st.dev, ino: st.ino };
    } catch (err) {
      db.close();
      throw err;
    }
  }

  /**
   * The open connection, after checking that the file is still the one we opened. SQLite keeps writing to a removed
   * file without complaint, which would silently split this instance from the others sharing the path; so a
   * removed file is an error, and a file replaced by a new one is reopened.
   */
  private connection(): Connection {
    if (this.closed) throw new Error('store is closed');
    let st: fs.Stats;
    try {
      st = fs.statSync(this.filePath);
    } catch (err) {
      throw new Error(`store file ${this.filePath} is gone: ${(err as Error).message}`, { cause: err });
    }
    if (!this.conn || st.ino !== this.conn.ino || st.dev !== this.conn.dev) {
      this.conn?.db.close();
      this.conn = undefined;
      this.conn = this.open();
    }
    return this.conn;
  }

  async getClientState(clientId: string): Promise<ClientState> {
    const row = await this.attempt((stmt) => stmt.getClient.get(clientId));
    const state: ClientState = {};
    if (row?.revoked_at != null) state.revokedAt = row.revoked_at;
    if (row?.not_before != null) state.notBefore = row.not_before;
    return state;
  }

  async revokeClient(clientId: string, at: number): Promise<void> {
    await this.attempt((stmt) => stmt.revokeClient.run(clientId, at, at));
  }

  async restoreClient(clientId: string): Promise<void> {
    await this.attempt((stmt) => stmt.restoreClient.run(clientId));
  }

  async revokeToken(jti: string, expiresAt: number): Promise<void> {
    await this.attempt((stmt) => stmt.revokeToken.run(jti, expiresAt));
    this.afterWrite();
  }

  async isTokenRevoked(jti: string): Promise<boolean> {
    const now = Date.now();
    return (await this.attempt((stmt) => stmt.isTokenRevoked.get(jti, now - REVOKED_JTI_GRACE_MS))) !== undefined;
  }

  async saveRefreshToken(record: RefreshRecord): Promise<void> {
    await this.attempt((stmt) => stmt.saveRefresh.run(toRow(record)));
    this.afterWrite();
  }

  async findRefreshToken(hash: string): Promise<RefreshRecord | undefined> {
    const row = await this.attempt((stmt) => stmt.findRefresh.get(hash));
    return row ? fromRow(row) : undefined;
  }

  async markRefreshTokenUsed(hash: string, at: number): Promise<boolean> {
    // One statement: SQLite serializes writers across processes, so exactly one caller sees changes === 1.
    return (await this.attempt((stmt) => stmt.markRefreshUsed.run(at, hash))).changes === 1;
  }

  async rotateRefreshToken(usedHash: string, at: number, successor: RefreshRecord): Promise<boolean> {
    // IMMEDIATE: the write lock is taken before the read, so two processes cannot both see the token unused.
    const won = await this.attempt((stmt) =>
      this.connection()
        .db.transaction(() => {
          if (stmt.markRefreshUsed.run(at, usedHash).changes === 1) {
            stmt.saveRefresh.run(toRow(successor));
            return true;
          }
          const used = stmt.findRefresh.get(usedHash);
          if (used) stmt.revokeFamily.run(used.family_id);
          return false;
        })
        .immediate(),
    );
    this.afterWrite();
    return won;
  }

  async consumeRate(key: string, limit: number, windowMs: number, burst: number, now: number): Promise<RateResult> {
    this.connection();
    const { tat, ...result } = gcra(this.rates.get(key), now, limit, windowMs, burst);
    if (result.allowed) {
      if (this.rates.size >= 100_000) for (const [k, t] of this.rates) if (t <= now) this.rates.delete(k);
      this.rates.set(key, tat);
    }
    return result;
  }

  async getDocument(kind: string, id: string): Promise<StoredDocument | undefined> {
    const row = await this.attempt((stmt) => stmt.getDocument.get(kind, id));
    return row ? { ...row } : undefined;
  }

  async listDocuments(kind: string): Promise<StoredDocument[]> {
    return (await this.attempt((stmt) => stmt.listDocuments.all(kind))).map((row) => ({ ...row }));
  }

  async putDocument(kind: string, id: string, body: string, expectedVersion: number): Promise<number | undefined> {
    const changed = await this.attempt((stmt) =>
      expectedVersion === 0
        ? stmt.insertDocument.run(kind, id, body).changes
        : stmt.updateDocument.run(body, kind, id, expectedVersion).changes,
    );
    return changed === 1 ? expectedVersion + 1 : undefined;
  }

  async deleteDocument(kind: string, id: string, expectedVersion?: number): Promise<boolean> {
    const result = await this.attempt((stmt) =>
      expectedVersion === undefined
        ? stmt.deleteDocument.run(kind, id)
        : stmt.deleteDocumentAt.run(kind, id, expectedVersion),
    );
    return result.changes === 1;
  }

  async lastLogEntry(log: string): Promise<LogEntry | undefined> {
    const row = await this.attempt((stmt) => stmt.lastLogEntry.get(log));
    return row ? { seq: row.seq, body: row.body } : undefined;
  }

  async appendLogEntry(log: string, seq: number, body: string): Promise<boolean> {
    return (await this.attempt((stmt) => stmt.appendLog.run(log, seq, body, log, seq))).changes === 1;
  }

  async readLog(log: string, fromSeq: number, limit: number): Promise<LogEntry[]> {
    const rows = await this.attempt((stmt) => stmt.readLog.all(log, fromSeq, Math.max(0, Math.floor(limit))));
    return rows.map((row) => ({ seq: row.seq, body: row.body }));
  }

  /**
   * Other processes on this file write without telling us: a timer polls the `changes` counter (bumped by triggers
   * in the same transaction as every relevant write) and emits `reset` when it moved. Coarse but never wrong.
   */
  onChange(listener: (change: StoreChange) => void): () => void {
    this.listeners.add(listener);
    if (!this.poller) {
      // the baseline is taken now, so a write right after subscribing is noticed
      this.lastChangeCount = undefined;
      this.pollChanges();
      this.poller = setInterval(() => this.pollChanges(), CHANGE_POLL_MS);
      this.poller.unref();
    }
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0 && this.poller) {
        clearInterval(this.poller);
        this.poller = undefined;
      }
    };
  }

  private pollChanges(): void {
    let n: number;
    try {
      n = this.connection().stmt.changeCount.get()?.n ?? 0;
    } catch {
      return;
    }
    if (this.lastChangeCount !== undefined && n !== this.lastChangeCount) {
      for (const listener of [...this.listeners]) listener({ kind: 'reset' });
    }
    this.lastChangeCount = n;
  }

  async *exportState(): AsyncIterable<StateItem> {
    const { stmt } = this.connection();
    for (const row of stmt.allClients.all()) {
      const state: ClientState = {};
      if (row.revoked_at != null) state.revokedAt = row.revoked_at;
      if (row.not_before != null) state.notBefore = row.not_before;
      yield { type: 'client', id: row.client_id, state };
    }
    for (const row of stmt.allRevokedTokens.all(Date.now() - REVOKED_JTI_GRACE_MS)) {
      yield { type: 'jti', jti: row.jti, expiresAt: row.expires_at };
    }
    for (const row of stmt.allRefresh.all()) yield { type: 'refresh', record: fromRow(row) };
    for (const doc of stmt.allDocuments.all()) yield { type: 'document', doc: { ...doc } };
    for (const row of stmt.allLogs.all()) yield { type: 'log', log: row.log, entry: { seq: row.seq, body: row.body } };
  }

  async importState(item: StateItem): Promise<boolean> {
    return this.attempt((stmt) => this.importItem(stmt, item));
  }

  private importItem(stmt: Statements, item: StateItem): boolean {
    switch (item.type) {
      case 'client': {
        const row = stmt.getClient.get(item.id);
        const prev: ClientState = {};
        if (row?.revoked_at != null) prev.revokedAt = row.revoked_at;
        if (row?.not_before != null) prev.notBefore = row.not_before;
        const merged = mergeClientState(prev, item.state);
        if (sameClientState(prev, merged)) return false;
        stmt.setClient.run(item.id, merged.revokedAt ?? null, merged.notBefore ?? null);
        return true;
      }
      case 'jti': {
        const before = stmt.isTokenRevoked.get(item.jti, item.expiresAt);
        if (before) return false;
        stmt.revokeToken.run(item.jti, item.expiresAt);
        return true;
      }
      case 'refresh': {
        const row = stmt.findRefresh.get(item.record.hash);
        const prev = row ? fromRow(row) : undefined;
        const merged = mergeRefreshRecord(prev, item.record);
        if (sameRefreshRecord(prev, merged)) return false;
        stmt.saveRefresh.run(toRow(merged));
        return true;
      }
      case 'document':
        return (
          stmt.importDocument.run(item.doc.kind, item.doc.id, item.doc.version, item.doc.body, item.doc.version)
            .changes === 1
        );
      case 'log':
        return stmt.appendLog.run(item.log, item.entry.seq, item.entry.body, item.log, item.entry.seq).changes === 1;
    }
  }

  async revokeRefreshFamily(familyId: string): Promise<void> {
    await this.attempt((stmt) => stmt.revokeFamily.run(familyId));
  }

  async incrementCounter(key: string, windowMs: number, now: number): Promise<CounterResult> {
    if (!Number.isFinite(windowMs) || windowMs <= 0) throw new Error(`invalid counter window ${windowMs}`);
    const windowStart = Math.floor(now / windowMs) * windowMs;
    const resetAt = windowStart + windowMs;
    const row = await this.attempt((stmt) => stmt.increment.get(key, windowMs, windowStart, resetAt));
    if (++this.incrementsSincePurge >= PURGE_EVERY) {
      this.incrementsSincePurge = 0;
      this.bestEffort(() => this.connection().stmt.purgeCounters.run(now));
    }
    return { count: row!.count, resetAt };
  }

  /**
   * Deletes what can no longer matter: counter windows that ended, revoked jtis past expiry (plus a grace period),
   * refresh tokens past expiry. Runs by itself now and then; callable for maintenance and tests.
   */
  async purge(now: number = Date.now()): Promise<void> {
    await this.attempt((stmt) => stmt.purgeCounters.run(now));
    await this.attempt(() => this.purgeExpired(now));
  }

  async ping(): Promise<void> {
    await this.attempt((stmt) => stmt.ping.get());
  }

  async probeWrite(): Promise<void> {
    const now = Date.now();
    await this.attempt((stmt) => stmt.heartbeat.run(now));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.poller) clearInterval(this.poller);
    this.poller = undefined;
    this.listeners.clear();
    const conn = this.conn;
    this.conn = undefined;
    conn?.db.close();
  }

  /**
   * Runs one statement (or one small group) on the open connection. When another connection holds the lock it is
   * tried again after a pause (2 ms, doubling up to 50 ms, jittered so that waiting processes do not retry in step)
   * until `busyTimeoutMs` has passed; the event loop runs meanwhile. Any failure becomes a StoreUnavailableError.
   */
  private async attempt<T>(op: (stmt: Statements) => T): Promise<T> {
    const deadline = Date.now() + this.busyTimeoutMs;
    let wait = RETRY_FIRST_MS;
    for (;;) {
      try {
        return op(this.connection().stmt);
      } catch (err) {
        const left = deadline - Date.now();
        if (!isBusy(err) || left <= 0) throw this.unavailable(err);
        await pause(Math.min(left, wait * (0.5 + Math.random())));
        wait = Math.min(wait * 2, RETRY_MAX_MS);
      }
    }
  }

  private unavailable(err: unknown): StoreUnavailableError {
    if (!isBusy(err)) return storeUnavailable(err);
    const code = (err as { code: string }).code;
    return new StoreUnavailableError(
      `store unavailable: the database is locked by another connection (still after ${this.busyTimeoutMs} ms)`,
      { cause: err, code },
    );
  }

  private afterWrite(): void {
    if (++this.writesSincePurge < PURGE_EVERY) return;
    this.writesSincePurge = 0;
    this.bestEffort(() => this.purgeExpired(Date.now()));
  }

  /** Housekeeping must not turn a write that succeeded into a rejection; it is retried on the next round. */
  private bestEffort(fn: () => unknown): void {
    try {
      fn();
    } catch {
      // ignored: the rows stay until the next purge
    }
  }

  private purgeExpired(now: number): void {
    const { stmt } = this.connection();
    stmt.purgeRevokedTokens.run(now - REVOKED_JTI_GRACE_MS);
    stmt.purgeRefresh.run(now);
  }
}

function toRow(record: RefreshRecord): RefreshRow {
  return {
    hash: record.hash,
    family_id: record.familyId,
    client_id: record.clientId,
    scopes: JSON.stringify(record.scopes),
    tenant: record.tenant ?? null,
    issued_at: record.issuedAt,
    expires_at: record.expiresAt,
    used_at: record.usedAt ?? null,
    revoked: record.revoked ? 1 : 0,
  };
}

function fromRow(row: RefreshRow): RefreshRecord {
  const record: RefreshRecord = {
    hash: row.hash,
    familyId: row.family_id,
    clientId: row.client_id,
    scopes: JSON.parse(row.scopes) as string[],
    issuedAt: row.issued_at,
    expiresAt: row.expires_at,
    revoked: row.revoked !== 0,
  };
  if (row.tenant !== null) record.tenant = row.tenant;
  if (row.used_at !== null) record.usedAt = row.used_at;
  return record;
}
