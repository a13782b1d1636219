import type { DocumentStore, LogEntry, StoredDocument } from './documents.js';

/** DocumentStore in this process only (store `memory:`), same semantics as the SQLite one. */
export class MemoryDocuments implements DocumentStore {
  private readonly docs = new Map<string, StoredDocument>();
  private readonly logs = new Map<string, LogEntry[]>();

  async getDocument(kind: string, id: string): Promise<StoredDocument | undefined> {
    const doc = this.docs.get(key(kind, id));
    return doc ? { ...doc } : undefined;
  }

  async listDocuments(kind: string): Promise<StoredDocument[]> {
    return [...this.docs.values()].filter((d) => d.kind === kind).map((d) => ({ ...d }));
  }

  async putDocument(kind: string, id: string, body: string, expectedVersion: number): Promise<number | undefined> {
    const current = this.docs.get(key(kind, id))?.version ?? 0;
    if (current !== expectedVersion) return undefined;
    const version = current + 1;
    this.docs.set(key(kind, id), { kind, id, version, body });
    return version;
  }

  async deleteDocument(kind: string, id: string, expectedVersion?: number): Promise<boolean> {
    const doc = this.docs.get(key(kind, id));
    if (!doc || (expectedVersion !== undefined && doc.version !== expectedVersion)) return false;
    return this.docs.delete(key(kind, id));
  }

  async lastLogEntry(log: string): Promise<LogEntry | undefined> {
    const entries = this.logs.get(log);
    return entries && entries.length > 0 ? { ...entries[entries.length - 1]! } : undefined;
  }

  async appendLogEntry(log: string, seq: number, body: string): Promise<boolean> {
    const entries = this.logs.get(log) ?? [];
    if (seq !== entries.length + 1) return false;
    entries.push({ seq, body });
    this.logs.set(log, entries);
    return true;
  }

  async readLog(log: string, fromSeq: number, limit: number): Promise<LogEntry[]> {
    const entries = this.logs.get(log) ?? [];
    return entries.slice(Math.max(0, fromSeq - 1), Math.max(0, fromSeq - 1) + limit).map((e) => ({ ...e }));
  }
}

function key(kind: string, id: string): string {
  return `${kind}\u0000${id}`;
}
