import fs from 'node:fs';
import Database from 'better-sqlite3';
import type { DocumentStore, LogEntry, StoredDocument } from './documents.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS documents (
  kind    TEXT NOT NULL,
  id      TEXT NOT NULL,
  version INTEGER NOT NULL,
  body    TEXT NOT NULL,
  PRIMARY KEY (kind, id)
);
CREATE TABLE IF NOT EXISTS logs (
  log  TEXT NOT NULL,
  seq  INTEGER NOT NULL,
  body TEXT NOT NULL,
  PRIMARY KEY (log, seq)
);
`;

/**
 * DocumentStore on a better-sqlite3 database (the store's file, WAL mode, so other processes sharing the file see
 * every write). Versions make writes optimistic: an UPDATE guarded by the expected version is atomic across
 * processes; a log append is an INSERT on the (log, seq) key, so two instances cannot take the same seq.
 */
export class SqliteDocuments implements DocumentStore {
  private readonly stmt;
  private readonly file: { path: string; ino: number; dev: number } | undefined;

  constructor(
    private readonly db: Database.Database,
    filePath?: string,
  ) {
    if (filePath !== undefined) {
      const st = fs.statSync(filePath);
      this.file = { path: filePath, ino: st.ino, dev: st.dev };
    }
    db.exec(SCHEMA);
    this.stmt = {
      get: db.prepare<[string, string], StoredDocument>(
        'SELECT kind, id, version, body FROM documents WHERE kind = ? AND id = ?',
      ),
      list: db.prepare<[string], StoredDocument>(
        'SELECT kind, id, version, body FROM documents WHERE kind = ? ORDER BY id',
      ),
      insert: db.prepare<[string, string, string]>(
        'INSERT OR IGNORE INTO documents (kind, id, version, body) VALUES (?, ?, 1, ?)',
      ),
      update: db.prepare<[string, string, string, number]>(
        'UPDATE documents SET body = ?, version = version + 1 WHERE kind = ? AND id = ? AND version = ?',
      ),
      delete: db.prepare<[string, string]>('DELETE FROM documents WHERE kind = ? AND id = ?'),
      deleteVersion: db.prepare<[string, string, number]>(
        'DELETE FROM documents WHERE kind = ? AND id = ? AND version = ?',
      ),
      last: db.prepare<[string], LogEntry>('SELECT seq, body FROM logs WHERE log = ? ORDER BY seq DESC LIMIT 1'),
      append: db.prepare<[string, number, string]>('INSERT OR IGNORE INTO logs (log, seq, body) VALUES (?, ?, ?)'),
      read: db.prepare<[string, number, number], LogEntry>(
        'SELECT seq, body FROM logs WHERE log = ? AND seq >= ? ORDER BY seq LIMIT ?',
      ),
    };
  }

  /** Opens its own connection to a store file (the SqliteStore keeps its connection private). */
  static open(filePath: string, busyTimeoutMs = 2000): SqliteDocuments {
    const db = new Database(filePath, { timeout: busyTimeoutMs });
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    return new SqliteDocuments(db, filePath);
  }

  async getDocument(kind: string, id: string): Promise<StoredDocument | undefined> {
    this.check();
    return this.stmt.get.get(kind, id);
  }

  async listDocuments(kind: string): Promise<StoredDocument[]> {
    this.check();
    return this.stmt.list.all(kind);
  }

  async putDocument(kind: string, id: string, body: string, expectedVersion: number): Promise<number | undefined> {
    this.check();
    if (expectedVersion === 0) return this.stmt.insert.run(kind, id, body).changes === 1 ? 1 : undefined;
    return this.stmt.update.run(body, kind, id, expectedVersion).changes === 1 ? expectedVersion + 1 : undefined;
  }

  async deleteDocument(kind: string, id: string, expectedVersion?: number): Promise<boolean> {
    this.check();
    const result =
      expectedVersion === undefined
        ? this.stmt.delete.run(kind, id)
        : this.stmt.deleteVersion.run(kind, id, expectedVersion);
    return result.changes === 1;
  }

  async lastLogEntry(log: string): Promise<LogEntry | undefined> {
    this.check();
    return this.stmt.last.get(log);
  }

  async appendLogEntry(log: string, seq: number, body: string): Promise<boolean> {
    this.check();
    if (seq > 1 && this.stmt.read.get(log, seq - 1, 1)?.seq !== seq - 1) return false;
    return this.stmt.append.run(log, seq, body).changes === 1;
  }

  async readLog(log: string, fromSeq: number, limit: number): Promise<LogEntry[]> {
    this.check();
    return this.stmt.read.all(log, fromSeq, limit);
  }

  /**
   * Like the SqliteStore: SQLite keeps writing to a removed file without complaint, which would acknowledge admin
   * changes no other instance sees; a removed or replaced file is a failure (a rejection, so the API answers 503).
   */
  private check(): void {
    if (!this.file) return;
    const st = fs.statSync(this.file.path, { throwIfNoEntry: false });
    if (!st || st.ino !== this.file.ino || st.dev !== this.file.dev)
      throw new Error(`store file ${this.file.path} is gone or was replaced`);
  }

  close(): void {
    this.db.close();
  }
}
