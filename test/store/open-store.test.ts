import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/store/memory-store.js';
import { openStore } from '../../src/store/open-store.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import type { Store } from '../../src/store/store.js';

describe('openStore', () => {
  let dir: string;
  const opened: Store[] = [];

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scopegate-open-store-'));
  });

  afterEach(async () => {
    for (const store of opened.splice(0)) await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function open(url: string, baseDir = dir): Promise<Store> {
    const store = await openStore(url, baseDir);
    opened.push(store);
    return store;
  }

  it('memory: gives a MemoryStore', async () => {
    expect(await open('memory:')).toBeInstanceOf(MemoryStore);
  });

  it('resolves a relative sqlite path against the base folder, not the working directory', async () => {
    const store = await open('sqlite:./data/x.db');
    expect(store).toBeInstanceOf(SqliteStore);
    expect((store as SqliteStore).filePath).toBe(path.join(dir, 'data', 'x.db'));
    expect(fs.existsSync(path.join(dir, 'data', 'x.db'))).toBe(true);
  });

  it('accepts a bare relative path, an absolute path and the sqlite:// form', async () => {
    expect(((await open('sqlite:y.db')) as SqliteStore).filePath).toBe(path.join(dir, 'y.db'));
    const abs = path.join(dir, 'abs', 'z.db');
    expect(((await open(`sqlite:${abs}`, '/nonexistent')) as SqliteStore).filePath).toBe(abs);
    expect(((await open(`sqlite://${abs}`, '/nonexistent')) as SqliteStore).filePath).toBe(abs);
    expect(((await open('sqlite://./w.db')) as SqliteStore).filePath).toBe(path.join(dir, 'w.db'));
  });

  it('two stores opened from the same URL share state', async () => {
    const a = await open('sqlite:./data/x.db');
    const b = await open('sqlite:./data/x.db');
    await a.revokeClient('c', 5);
    expect(await b.getClientState('c')).toStrictEqual({ revokedAt: 5, notBefore: 5 });
  });

  it('says when Redis cannot be reached, without echoing a password', async () => {
    // nothing listens on port 1: a clear error that hides the password
    await expect(openStore('redis://user:hunter2@127.0.0.1:1', dir)).rejects.toThrow(/cannot reach the store/);
    await expect(openStore('redis://user:hunter2@127.0.0.1:1', dir)).rejects.not.toThrow(/hunter2/);
  });

  it('rejects an unknown scheme and an empty sqlite path', async () => {
    await expect(openStore('postgres://x', dir)).rejects.toThrow(/unsupported store URL/);
    await expect(openStore('sqlite:', dir)).rejects.toThrow(/names no file/);
  });

  it('rejects (does not throw) when the file cannot be created', async () => {
    fs.writeFileSync(path.join(dir, 'blocker'), 'x');
    let promise: Promise<Store> | undefined;
    expect(() => {
      promise = openStore('sqlite:./blocker/x.db', dir);
    }).not.toThrow();
    await expect(promise).rejects.toThrow();
  });
});
