import type { DocumentStore } from './documents.js';
import { MemoryDocuments } from './memory-documents.js';
import { SqliteDocuments } from './sqlite-documents.js';
import { SqliteStore } from './sqlite-store.js';
import type { Store } from './store.js';

const attached = new WeakMap<Store, DocumentStore & { close?: () => void }>();

function isDocumentStore(store: object): store is DocumentStore {
  return 'getDocument' in store && 'appendLogEntry' in store;
}

/**
 * The DocumentStore of a Store: the store itself once it implements the interface (the shared-store work makes
 * `Store` extend it); until then one per store, on the same SQLite file or in memory. Everything above the store
 * depends only on the DocumentStore interface through this accessor.
 */
export function documentsOf(store: Store): DocumentStore {
  if (isDocumentStore(store)) return store;
  let docs = attached.get(store);
  if (!docs) {
    docs = store instanceof SqliteStore ? SqliteDocuments.open(store.filePath) : new MemoryDocuments();
    attached.set(store, docs);
  }
  return docs;
}

/** Closes what `documentsOf` opened for this store (call before or after `store.close()`). */
export function releaseDocuments(store: Store): void {
  attached.get(store)?.close?.();
  attached.delete(store);
}
