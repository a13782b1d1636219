/**
 * Run-time records that several instances share: clients created through the admin API with their secrets and API
 * keys (kind `client`), and any later kind. The store keeps opaque JSON with a version for optimistic concurrency
 * (`If-Match`, 412); what a record means is decided above the store (src/admin, src/registry), so each backend only
 * implements this small, generic contract.
 */
export interface StoredDocument {
  kind: string;
  id: string;
  /** grows by one with every write of this record; the first write gives 1 */
  version: number;
  /** JSON text */
  body: string;
}

/** One entry of an append-only log (the audit trail): `seq` starts at 1 and has no gaps. */
export interface LogEntry {
  seq: number;
  /** JSON text */
  body: string;
}

export interface DocumentStore {
  getDocument(kind: string, id: string): Promise<StoredDocument | undefined>;
  listDocuments(kind: string): Promise<StoredDocument[]>;
  /**
   * Writes `body` when the stored version equals `expectedVersion` (0: the record must not exist yet). Returns the
   * new version, or `undefined` when another write came first (the caller answers 409/412). Atomic across instances.
   */
  putDocument(kind: string, id: string, body: string, expectedVersion: number): Promise<number | undefined>;
  /** Deletes when the version matches (`undefined`: any version); false when absent or stale. */
  deleteDocument(kind: string, id: string, expectedVersion?: number): Promise<boolean>;

  /** The last entry of a log, or undefined when it is empty. */
  lastLogEntry(log: string): Promise<LogEntry | undefined>;
  /**
   * Appends at exactly `seq` (the last seq + 1); false when that seq is taken (another instance appended first: read
   * the last entry again and retry). Lets a caller chain hashes without the store knowing about them.
   */
  appendLogEntry(log: string, seq: number, body: string): Promise<boolean>;
  /** Entries with seq >= fromSeq, in order, at most `limit`. */
  readLog(log: string, fromSeq: number, limit: number): Promise<LogEntry[]>;
}
