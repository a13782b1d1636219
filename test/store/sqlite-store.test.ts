import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SCHEMA_VERSION, SqliteStore } from '../../src/store/sqlite-store.js';
import { documentContract } from './document-contract.js';
import { StoreUnavailableError } from '../../src/store/store-unavailable.js';
import { distribution, holdWriteLock } from '../helpers/faults.js';
import { refreshRecord, storeContract } from './store-contract.js';

const run = promisify(execFile);
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'scopegate-sqlite-'));
}

storeContract('SqliteStore', async () => {
  const dir = tempDir();
  const store = new SqliteStore(path.join(dir, 'state.db'));
  return {
    store,
    async dispose() {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
});

documentContract('SqliteStore', async () => {
  const dir = tempDir();
  const store = new SqliteStore(path.join(dir, 'state.db'));
  return {
    store,
    async dispose() {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('SqliteStore', () => {
  let dir: string;
  const open: SqliteStore[] = [];
  const raw: Database.Database[] = [];

  function openStore(file = path.join(dir, 'state.db'), busyTimeoutMs?: number): SqliteStore {
    const store = new SqliteStore(file, busyTimeoutMs === undefined ? {} : { busyTimeoutMs });
    open.push(store);
    return store;
  }

  function openRaw(file = path.join(dir, 'state.db')): Database.Database {
    const db = new Database(file);
    raw.push(db);
    return db;
  }

  beforeEach(() => {
    dir = tempDir();
  });

  afterEach(async () => {
    for (const db of raw.splice(0)) if (db.open) db.close();
    for (const store of open.splice(0)) await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  describe('opening', () => {
    it('creates missing parent folders, the schema, WAL mode and a busy timeout', async () => {
      const file = path.join(dir, 'a', 'b', 'state.db');
      const store = openStore(file);
      await store.ping();
      expect(fs.existsSync(file)).toBe(true);
      const db = openRaw(file);
      expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      const tables = db
        .prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .all()
        .map((r) => r.name);
      expect(tables).toEqual([
        'changes',
        'clients',
        'counters',
        'documents',
        'heartbeat',
        'logs',
        'refresh_tokens',
        'revoked_tokens',
      ]);
    });

    it('opens an existing file without touching its data', async () => {
      const first = openStore();
      await first.revokeClient('c', 10);
      const second = openStore();
      expect(await second.getClientState('c')).toStrictEqual({ revokedAt: 10, notBefore: 10 });
    });

    it('migrates a schema-1 file: keeps its rows, adds documents, logs and the change counter', async () => {
      const file = path.join(dir, 'v1.db');
      const v1 = openRaw(file);
      v1.exec(`CREATE TABLE clients (client_id TEXT PRIMARY KEY, revoked_at INTEGER, not_before INTEGER);
        CREATE TABLE revoked_tokens (jti TEXT PRIMARY KEY, expires_at INTEGER NOT NULL);
        INSERT INTO clients VALUES ('c', 7, 7);`);
      v1.pragma('user_version = 1');
      v1.close();
      const store = openStore(file);
      expect(await store.getClientState('c')).toStrictEqual({ revokedAt: 7, notBefore: 7 });
      expect(await store.putDocument('client', 'd', '{}', 0)).toBe(1);
      expect(await store.appendLogEntry('audit', 1, 'x')).toBe(true);
      expect(openRaw(file).pragma('user_version', { simple: true })).toBe(2);
    });

    it('refuses a file whose schema is newer than it knows', () => {
      const file = path.join(dir, 'state.db');
      openRaw(file).pragma(`user_version = ${SCHEMA_VERSION + 1}`);
      expect(() => new SqliteStore(file)).toThrow(/schema version/);
    });

    it('throws from the constructor when the folder cannot be created', () => {
      const blocker = path.join(dir, 'not-a-folder');
      fs.writeFileSync(blocker, 'x');
      expect(() => new SqliteStore(path.join(blocker, 'state.db'))).toThrow();
    });
  });

  describe('persistence', () => {
    it('keeps every kind of state across close and reopen', async () => {
      const t0 = 1_700_000_040_000;
      const first = openStore();
      await first.revokeClient('revoked', 100);
      await first.revokeClient('restored', 200);
      await first.restoreClient('restored');
      await first.revokeToken('jti-1', Date.now() + 60_000);
      await first.saveRefreshToken(refreshRecord({ hash: 'h1', familyId: 'f1' }));
      await first.markRefreshTokenUsed('h1', 300);
      await first.saveRefreshToken(refreshRecord({ hash: 'h2', familyId: 'f2' }));
      await first.revokeRefreshFamily('f2');
      await first.incrementCounter('k', 60_000, t0);
      await first.close();

      const second = openStore();
      expect(await second.getClientState('revoked')).toStrictEqual({ revokedAt: 100, notBefore: 100 });
      expect(await second.getClientState('restored')).toStrictEqual({ notBefore: 200 });
      expect(await second.isTokenRevoked('jti-1')).toBe(true);
      expect((await second.findRefreshToken('h1'))?.usedAt).toBe(300);
      expect(await second.markRefreshTokenUsed('h1', 400)).toBe(false);
      expect((await second.findRefreshToken('h2'))?.revoked).toBe(true);
      expect((await second.incrementCounter('k', 60_000, t0 + 1)).count).toBe(2);
    });
  });

  describe('two instances on one file', () => {
    it("see each other's writes at once", async () => {
      const a = openStore();
      const b = openStore();
      await a.revokeClient('pos-partner', 1000);
      expect(await b.getClientState('pos-partner')).toStrictEqual({ revokedAt: 1000, notBefore: 1000 });
      await b.restoreClient('pos-partner');
      expect(await a.getClientState('pos-partner')).toStrictEqual({ notBefore: 1000 });
      await b.revokeToken('jti', Date.now() + 60_000);
      expect(await a.isTokenRevoked('jti')).toBe(true);
      await a.saveRefreshToken(refreshRecord({ hash: 'h', familyId: 'f' }));
      await b.revokeRefreshFamily('f');
      expect((await a.findRefreshToken('h'))?.revoked).toBe(true);
    });

    it('let only one of them use a refresh token', async () => {
      const a = openStore();
      const b = openStore();
      await a.saveRefreshToken(refreshRecord({ hash: 'h' }));
      expect(await b.markRefreshTokenUsed('h', 1)).toBe(true);
      expect(await a.markRefreshTokenUsed('h', 2)).toBe(false);
    });

    it('share rate-limit counters', async () => {
      const a = openStore();
      const b = openStore();
      await a.incrementCounter('k', 60_000, 0);
      await b.incrementCounter('k', 60_000, 1);
      expect((await a.incrementCounter('k', 60_000, 2)).count).toBe(3);
    });

    it('across processes: each refresh token is used exactly once, every increment is counted', async () => {
      const file = path.join(dir, 'shared.db');
      const seed = openStore(file);
      const tokens = 200;
      for (let i = 0; i < tokens; i++) await seed.saveRefreshToken(refreshRecord({ hash: `h${i}` }));
      const worker = path.join(dir, 'worker.mts');
      const storeModule = path.join(repoRoot, 'src/store/sqlite-store.ts');
      fs.writeFileSync(
        worker,
        `import { SqliteStore } from ${JSON.stringify(storeModule)};
const store = new SqliteStore(${JSON.stringify(file)});
let won = 0;
for (let i = 0; i < ${tokens}; i++) {
  if (await store.markRefreshTokenUsed('h' + i, Date.now())) won++;
  await store.incrementCounter('shared', 3_600_000, 0);
}
await store.close();
console.log(won);
`,
      );
      const tsx = path.join(repoRoot, 'node_modules/.bin/tsx');
      const outputs = await Promise.all([run(tsx, [worker]), run(tsx, [worker]), run(tsx, [worker])]);
      const won = outputs.map((o) => Number(o.stdout.trim()));
      expect(won.reduce((a, b) => a + b, 0)).toBe(tokens);
      expect((await seed.incrementCounter('shared', 3_600_000, 0)).count).toBe(3 * tokens + 1);
    });
  });

  describe('failures reject, never throw', () => {
    it('rejects every call once the file was removed', async () => {
      const store = openStore();
      await store.revokeClient('c', 1);
      fs.rmSync(dir, { recursive: true, force: true });
      let promise: Promise<unknown> | undefined;
      expect(() => {
        promise = store.revokeClient('c', 2);
      }).not.toThrow();
      await expect(promise).rejects.toThrow(/gone/);
      await expect(store.getClientState('c')).rejects.toThrow(/gone/);
      await expect(store.isTokenRevoked('j')).rejects.toThrow(/gone/);
      await expect(store.markRefreshTokenUsed('h', 1)).rejects.toThrow(/gone/);
      await expect(store.incrementCounter('k', 1000, 1)).rejects.toThrow(/gone/);
      await expect(store.ping()).rejects.toThrow(/gone/);
      await store.close();
    });

    it('follows a file that was replaced by a new one, rather than writing into the removed one', async () => {
      const file = path.join(dir, 'state.db');
      const a = openStore(file);
      await a.revokeClient('old', 1);
      for (const suffix of ['', '-wal', '-shm']) fs.rmSync(file + suffix, { force: true });
      const b = openStore(file);
      await b.revokeClient('new', 2);
      expect(await a.getClientState('new')).toStrictEqual({ revokedAt: 2, notBefore: 2 });
      expect(await a.getClientState('old')).toStrictEqual({});
      await a.revokeClient('from-a', 3);
      expect(await b.getClientState('from-a')).toStrictEqual({ revokedAt: 3, notBefore: 3 });
    });

    it('rejects a write when another process holds the lock beyond the busy timeout, then recovers', async () => {
      const file = path.join(dir, 'state.db');
      const store = openStore(file, 100);
      const locker = openRaw(file);
      locker.exec('BEGIN EXCLUSIVE');
      await expect(store.revokeClient('c', 1)).rejects.toMatchObject({ code: 'SQLITE_BUSY' });
      await expect(store.incrementCounter('k', 1000, 1)).rejects.toMatchObject({ code: 'SQLITE_BUSY' });
      // readers are not blocked in WAL mode
      expect(await store.getClientState('c')).toStrictEqual({});
      locker.exec('ROLLBACK');
      await store.revokeClient('c', 1);
      expect(await store.getClientState('c')).toStrictEqual({ revokedAt: 1, notBefore: 1 });
    });
  });

  describe('a write lock held by another process (python3 holding BEGIN IMMEDIATE)', () => {
    /** Largest gap between 5 ms ticks of the event loop while `work` runs: a blocked loop shows as one long gap. */
    async function largestLoopGap<T>(work: Promise<T>): Promise<{ gap: number; result: PromiseSettledResult<T> }> {
      let last = performance.now();
      let gap = 0;
      const tick = setInterval(() => {
        const now = performance.now();
        gap = Math.max(gap, now - last);
        last = now;
      }, 5);
      const [result] = await Promise.allSettled([work]);
      clearInterval(tick);
      return { gap, result };
    }

    it('a write waits without blocking the event loop, then rejects with StoreUnavailableError', async () => {
      const file = path.join(dir, 'state.db');
      const store = openStore(file, 600);
      const lock = await holdWriteLock(file);
      try {
        const started = performance.now();
        const { gap, result } = await largestLoopGap(store.revokeClient('c', 1));
        const waited = performance.now() - started;
        console.log(
          `write under a held lock: rejected after ${waited.toFixed(0)} ms, largest loop gap ${gap.toFixed(1)} ms`,
        );
        expect(result.status).toBe('rejected');
        const err = (result as PromiseRejectedResult).reason as StoreUnavailableError;
        expect(err).toBeInstanceOf(StoreUnavailableError);
        expect(err.code).toMatch(/^SQLITE_BUSY/);
        expect(err.message).toMatch(/locked/);
        expect(waited).toBeGreaterThanOrEqual(590);
        expect(gap).toBeLessThan(150);
        await expect(store.probeWrite()).rejects.toBeInstanceOf(StoreUnavailableError);
      } finally {
        await lock.release();
      }
      await store.revokeClient('c', 1);
      await store.probeWrite();
    });

    it('a waiting write goes through once the lock is released within the bound', async () => {
      const file = path.join(dir, 'state.db');
      const store = openStore(file, 5000);
      const lock = await holdWriteLock(file);
      const write = store.revokeClient('c', 7);
      await new Promise((r) => setTimeout(r, 300));
      await lock.release();
      await write;
      expect(await store.getClientState('c')).toStrictEqual({ revokedAt: 7, notBefore: 7 });
    });

    it('reads never wait for the writer, and see the last committed state', async () => {
      const file = path.join(dir, 'state.db');
      const store = openStore(file, 2000);
      await store.revokeClient('committed', 1);
      const lock = await holdWriteLock(
        file,
        "INSERT INTO clients (client_id, revoked_at, not_before) VALUES ('uncommitted', 2, 2)",
      );
      try {
        const times: number[] = [];
        for (let i = 0; i < 50; i++) {
          const t = performance.now();
          expect(await store.getClientState('committed')).toStrictEqual({ revokedAt: 1, notBefore: 1 });
          expect(await store.getClientState('uncommitted')).toStrictEqual({});
          expect(await store.isTokenRevoked('j')).toBe(false);
          times.push(performance.now() - t);
        }
        const d = distribution(times);
        console.log('three reads under a held write lock (ms):', d);
        expect(d.max).toBeLessThan(100);
      } finally {
        await lock.release();
      }
    });
  });

  describe('housekeeping', () => {
    function count(table: string): number {
      return (openRaw().prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
    }

    it('purges ended counter windows every 1000 increments', async () => {
      const store = openStore();
      for (let i = 0; i < 10; i++) await store.incrementCounter(`old-${i}`, 1000, 0);
      for (let i = 0; i < 989; i++) await store.incrementCounter('current', 1000, 50_000);
      expect(count('counters')).toBe(11);
      await store.incrementCounter('current', 1000, 50_000); // the 1000th
      expect(count('counters')).toBe(1);
    });

    it('purges expired refresh tokens and long-expired revoked jtis every 1000 writes', async () => {
      const store = openStore();
      const now = Date.now();
      await store.saveRefreshToken(refreshRecord({ hash: 'dead', expiresAt: now - 1 }));
      await store.revokeToken('old', now - 60 * 60_000);
      for (let i = 0; i < 997; i++) await store.revokeToken(`live-${i}`, now + 60_000);
      expect(count('refresh_tokens')).toBe(1);
      await store.saveRefreshToken(refreshRecord({ hash: 'live', expiresAt: now + 60_000 })); // the 1000th
      expect(count('refresh_tokens')).toBe(1);
      expect(await store.findRefreshToken('live')).toBeDefined();
      expect(count('revoked_tokens')).toBe(997);
    });

    it('purges what expired while it was closed when it opens', async () => {
      const first = openStore();
      await first.saveRefreshToken(refreshRecord({ hash: 'dead', expiresAt: Date.now() - 1 }));
      await first.close();
      openStore();
      expect(count('refresh_tokens')).toBe(0);
    });
  });
});
