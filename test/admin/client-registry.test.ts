/** The registry never lets a refresh that read the store before a local write undo that write. */
import { describe, expect, it } from 'vitest';
import { ClientRegistry } from '../../src/admin/client-registry.js';
import { CLIENT_KIND } from '../../src/store/stored-client.js';
import type { StoredDocument } from '../../src/store/documents.js';
import { MemoryStore } from '../../src/store/memory-store.js';

const body = (id: string, name: string) =>
  JSON.stringify({ id, name, scopes: [], refresh_tokens: false, created_at: 0, secrets: [], api_keys: [] });

/** A real MemoryStore whose list answers late, with what it held when it was asked. */
class SlowList extends MemoryStore {
  release: (() => void) | undefined;
  override async listDocuments(kind: string): Promise<StoredDocument[]> {
    const snapshot = await super.listDocuments(kind);
    await new Promise<void>((r) => (this.release = r));
    return snapshot;
  }
}

const tick = () => new Promise((r) => setImmediate(r));

describe('ClientRegistry', () => {
  it('a deletion applied by invalidate is not undone by a refresh whose list predates it', async () => {
    const docs = new SlowList();
    await docs.putDocument(CLIENT_KIND, 'a', body('a', 'A'), 0);
    const registry = new ClientRegistry(docs, () => undefined, { refreshMs: 60_000 });
    const started = registry.start();
    await tick();
    docs.release!();
    await started;
    expect(registry.get('a')).toBeDefined();

    const refresh = registry.refresh(); // lists now (with "a"), answers later
    await tick();
    await docs.deleteDocument(CLIENT_KIND, 'a');
    await registry.invalidate('a');
    expect(registry.get('a')).toBeUndefined();
    docs.release!();
    await refresh;
    expect(registry.get('a')).toBeUndefined();
    registry.stop();
  });

  it('picks up documents written by others on refresh', async () => {
    const docs = new MemoryStore();
    const registry = new ClientRegistry(docs, () => undefined, { refreshMs: 60_000 });
    await registry.start();
    await docs.putDocument(CLIENT_KIND, 'b', body('b', 'B'), 0);
    await registry.refresh();
    expect(registry.get('b')?.client.name).toBe('B');
    await docs.putDocument(CLIENT_KIND, 'b', body('b', 'B2'), 1);
    await registry.refresh();
    expect(registry.get('b')).toMatchObject({ version: 2, client: { name: 'B2' } });
    registry.stop();
  });
});
