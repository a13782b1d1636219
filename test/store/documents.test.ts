import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DocumentStore } from '../../src/store/documents.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';

const backends: [string, () => DocumentStore[]][] = [
  [
    'memory',
    () => {
      const one = new MemoryStore();
      return [one, one];
    },
  ],
  [
    'sqlite (two stores on one file)',
    () => {
      const file = join(mkdtempSync(join(tmpdir(), 'scopegate-docs-')), 'state.db');
      return [new SqliteStore(file), new SqliteStore(file)];
    },
  ],
];

describe.each(backends)('DocumentStore: %s', (_name, open) => {
  it('versions writes: create at 0, update at the current version, refuse stale ones', async () => {
    const [a, b] = open();
    expect(await a!.putDocument('client', 'x', '{"v":1}', 0)).toBe(1);
    expect(await b!.putDocument('client', 'x', '{"v":1}', 0)).toBeUndefined();
    expect(await b!.putDocument('client', 'x', '{"v":2}', 1)).toBe(2);
    expect(await a!.putDocument('client', 'x', '{"v":3}', 1)).toBeUndefined();
    expect(await a!.getDocument('client', 'x')).toEqual({ kind: 'client', id: 'x', version: 2, body: '{"v":2}' });
    expect((await b!.listDocuments('client')).map((d) => d.id)).toEqual(['x']);
    expect(await a!.deleteDocument('client', 'x', 1)).toBe(false);
    expect(await a!.deleteDocument('client', 'x', 2)).toBe(true);
    expect(await b!.getDocument('client', 'x')).toBeUndefined();
  });

  it('appends logs at exactly the next seq, once', async () => {
    const [a, b] = open();
    expect(await a!.lastLogEntry('audit')).toBeUndefined();
    expect(await a!.appendLogEntry('audit', 2, 'x')).toBe(false);
    expect(await a!.appendLogEntry('audit', 1, 'one')).toBe(true);
    expect(await b!.appendLogEntry('audit', 1, 'other')).toBe(false);
    expect(await b!.appendLogEntry('audit', 2, 'two')).toBe(true);
    expect(await a!.lastLogEntry('audit')).toEqual({ seq: 2, body: 'two' });
    expect(await b!.readLog('audit', 2, 10)).toEqual([{ seq: 2, body: 'two' }]);
    expect(await b!.readLog('audit', 1, 1)).toEqual([{ seq: 1, body: 'one' }]);
  });
});
