import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeMigrateCommand } from '../../src/commands/store-migrate.js';
import { RedisStore } from '../../src/store/redis-store.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { refreshRecord } from '../store/store-contract.js';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';

let redis: RedisServer;
let dir: string;

beforeAll(async () => {
  redis = await startRedis();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scopegate-migrate-'));
});

afterAll(async () => {
  await redis?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('scopegate store migrate', () => {
  it('copies every kind of state from SQLite to Redis, prints counts, and a second run copies nothing', async () => {
    const file = path.join(dir, 'state.db');
    const sqlite = new SqliteStore(file);
    const soon = Date.now() + 60 * 60_000;
    await sqlite.revokeClient('revoked', 100);
    await sqlite.revokeClient('restored', 200);
    await sqlite.restoreClient('restored');
    await sqlite.revokeToken('jti-1', soon);
    await sqlite.revokeToken('jti-2', soon);
    await sqlite.saveRefreshToken(refreshRecord({ hash: 'h1', familyId: 'f1', usedAt: 5 }));
    await sqlite.saveRefreshToken(refreshRecord({ hash: 'h2', familyId: 'f1' }));
    await sqlite.revokeRefreshFamily('f1');
    await sqlite.saveRefreshToken(refreshRecord({ hash: 'h3', familyId: 'f2' }));
    await sqlite.putDocument('client', 'c1', '{"name":"x"}', 0);
    await sqlite.putDocument('client', 'c1', '{"name":"y"}', 1);
    for (let seq = 1; seq <= 3; seq++) await sqlite.appendLogEntry('audit', seq, `{"seq":${seq}}`);
    await sqlite.close();

    const from = `sqlite:${file}`;
    const to = `${redis.url}/2`;
    const first = await storeMigrateCommand({ from, to, prefix: 'mig:' });
    expect(first).toContain('client states: 2 copied, 0 already present');
    expect(first).toContain('revoked token ids: 2 copied');
    expect(first).toContain('refresh tokens: 3 copied');
    expect(first).toContain('documents: 1 copied');
    expect(first).toContain('log entries: 3 copied');

    const second = await storeMigrateCommand({ from, to, prefix: 'mig:' });
    for (const label of ['client states', 'revoked token ids', 'refresh tokens', 'documents', 'log entries']) {
      expect(second).toMatch(new RegExp(`${label}: 0 copied`));
    }

    const target = new RedisStore(to, { prefix: 'mig:', commandTimeoutMs: 1000 });
    await target.connect();
    expect(await target.getClientState('revoked')).toStrictEqual({ revokedAt: 100, notBefore: 100 });
    expect(await target.getClientState('restored')).toStrictEqual({ notBefore: 200 });
    expect(await target.isTokenRevoked('jti-1')).toBe(true);
    expect(await target.findRefreshToken('h1')).toMatchObject({ usedAt: 5, revoked: true, familyId: 'f1' });
    expect((await target.findRefreshToken('h3'))?.revoked).toBe(false);
    // the family's revocation came along: a successor saved into it is born revoked
    await target.saveRefreshToken(refreshRecord({ hash: 'h4', familyId: 'f1' }));
    expect((await target.findRefreshToken('h4'))?.revoked).toBe(true);
    expect(await target.getDocument('client', 'c1')).toMatchObject({ version: 2, body: '{"name":"y"}' });
    expect((await target.readLog('audit', 1, 10)).map((e) => e.seq)).toStrictEqual([1, 2, 3]);

    // the target moves on (a token used, a client revoked there); migrating again never undoes that
    expect(await target.markRefreshTokenUsed('h3', 77)).toBe(true);
    await target.revokeClient('restored', 300);
    const third = await storeMigrateCommand({ from, to, prefix: 'mig:' });
    expect(third).toContain('refresh tokens: 0 copied');
    expect(third).toContain('client states: 0 copied');
    expect((await target.findRefreshToken('h3'))?.usedAt).toBe(77);
    expect(await target.getClientState('restored')).toStrictEqual({ revokedAt: 300, notBefore: 300 });
    await target.close();
  });

  it('refuses the same store on both sides and hides a password in messages', async () => {
    await expect(storeMigrateCommand({ from: 'memory:', to: 'memory:' })).rejects.toThrow(/same store/);
    await expect(storeMigrateCommand({ from: 'memory:', to: 'redis://u:secret-pass@127.0.0.1:1' })).rejects.not.toThrow(
      /secret-pass/,
    );
  });

  it('refuses to merge two different audit trails, and copies nothing then', async () => {
    const file = path.join(dir, 'diverged.db');
    const sqlite = new SqliteStore(file);
    for (let seq = 1; seq <= 3; seq++) await sqlite.appendLogEntry('audit', seq, `{"source":${seq}}`);
    await sqlite.putDocument('client', 'only-in-source', '{}', 0);
    await sqlite.close();
    const target = new RedisStore(redis.url, { prefix: 'diverged:', commandTimeoutMs: 2000 });
    await target.connect();
    // an instance already wrote its own history into the target
    await target.appendLogEntry('audit', 1, '{"target":1}');
    await expect(storeMigrateCommand({ from: `sqlite:${file}`, to: redis.url, prefix: 'diverged:' })).rejects.toThrow(
      /audit log already holds a different entry 1/,
    );
    expect(await target.readLog('audit', 1, 10)).toEqual([{ seq: 1, body: '{"target":1}' }]);
    expect(await target.getDocument('client', 'only-in-source')).toBeUndefined();
    await target.close();
  });
});
