import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisStore } from '../../src/store/redis-store.js';
import type { StoreChange } from '../../src/store/change-feed.js';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';
import { documentContract } from './document-contract.js';
import { refreshRecord, storeContract } from './store-contract.js';

let redis: RedisServer;
let n = 0;

beforeAll(async () => {
  redis = await startRedis();
});

afterAll(async () => {
  await redis?.stop();
});

/** Each test gets its own prefix on the one server, so tests never see each other's keys. */
async function fresh(options: ConstructorParameters<typeof RedisStore>[1] = {}): Promise<RedisStore> {
  const store = new RedisStore(redis.url, { prefix: `t${++n}:`, commandTimeoutMs: 500, ...options });
  await store.connect();
  await store.waitUntilReady();
  return store;
}

const factory = async () => {
  const store = await fresh();
  return { store, dispose: () => store.close() };
};
storeContract('RedisStore', factory);
documentContract('RedisStore', factory);

function collect(store: RedisStore): StoreChange[] {
  const seen: StoreChange[] = [];
  store.onChange((c) => seen.push(c));
  return seen;
}

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('RedisStore', () => {
  it('warns at start when Redis persists nothing, and not when appendonly is on', async () => {
    const bare = await startRedis({ appendonly: 'no' });
    try {
      const warnings: string[] = [];
      const store = new RedisStore(bare.url, { log: (level, m) => level === 'warn' && warnings.push(m) });
      await store.connect();
      await store.close();
      expect(warnings.join('\n')).toMatch(/persists nothing.*appendonly yes/);
    } finally {
      await bare.stop();
    }
    const warnings: string[] = [];
    const store = new RedisStore(redis.url, { log: (level, m) => level === 'warn' && warnings.push(m) });
    await store.connect();
    await store.close();
    expect(warnings).toStrictEqual([]);
  });

  it('is "starting" until its change feed is live, then "up"', async () => {
    const store = new RedisStore(redis.url, { prefix: `t${++n}:` });
    expect(store.health().state).toBe('starting');
    await store.connect();
    await store.waitUntilReady();
    expect(store.health().state).toBe('up');
    await store.close();
  });

  it('keeps every key under its prefix, state keys in one hash slot', async () => {
    const store = await fresh({ prefix: 'only-here:' });
    await store.revokeClient('c', 1);
    await store.revokeToken('j', Date.now() + 60_000);
    await store.saveRefreshToken(refreshRecord({ hash: 'h' }));
    await store.incrementCounter('k', 60_000, Date.now());
    await store.consumeRate('r', 1, 1000, 1, 0);
    await store.putDocument('client', 'd', '{}', 0);
    await store.appendLogEntry('audit', 1, 'x');
    const probe = await fresh({ prefix: 'probe:' });
    const keys = (await (probe as unknown as { scan(m: string): Promise<string[]> }).scan('*')).filter(
      (k) => !k.startsWith('t') && !k.startsWith('probe:'),
    );
    expect(keys.length).toBeGreaterThan(5);
    for (const key of keys) expect(key.startsWith('only-here:')).toBe(true);
    for (const key of keys.filter((k) => !k.includes(':ctr:') && !k.includes(':rate:'))) {
      expect(key.startsWith('only-here:{state}:')).toBe(true);
    }
    await store.close();
    await probe.close();
  });

  it('a revoked jti expires with its token plus the grace period', async () => {
    const store = await fresh();
    await store.revokeToken('j', Date.now() + 10_000);
    const ttl = await (store as unknown as { command(a: string[]): Promise<number> }).command([
      'PTTL',
      't' + n + ':{state}:jti:j',
    ]);
    expect(ttl).toBeGreaterThan(5 * 60_000);
    expect(ttl).toBeLessThanOrEqual(10_000 + 5 * 60_000);
    await store.close();
  });

  it("two instances: each sees the other's changes through the stream, named", async () => {
    const a = await fresh();
    const b = new RedisStore(redis.url, { prefix: `t${n}:`, commandTimeoutMs: 500 });
    await b.connect();
    await b.waitUntilReady();
    const seen = collect(b);
    await a.revokeClient('pos', 1);
    await a.revokeToken('jti-1', Date.now() + 60_000);
    await a.putDocument('client', 'x', '{}', 0);
    await until(() => seen.length >= 3);
    expect(seen.filter((c) => c.kind !== 'reset')).toStrictEqual([
      { kind: 'client', id: 'pos' },
      { kind: 'token', id: 'jti-1' },
      { kind: 'document', docKind: 'client', id: 'x' },
    ]);
    await a.close();
    await b.close();
  });

  it('a trimmed gap in the stream is noticed and answered with reset', async () => {
    const a = await fresh({ checkEveryMs: 100 });
    const seen = collect(a);
    // bump the version behind the stream's back, as if entries were trimmed before this instance read them
    await (a as unknown as { command(args: string[]): Promise<unknown> }).command([
      'INCRBY',
      `t${n}:{state}:version`,
      '5',
    ]);
    await until(() => seen.some((c) => c.kind === 'reset'));
    await a.close();
  });

  it('Redis paused: calls fail within the command timeout, the circuit opens, and it recovers', async () => {
    const store = await fresh({ commandTimeoutMs: 50 });
    const seen = collect(store);
    redis.pause();
    try {
      const started = Date.now();
      for (let i = 0; i < 3; i++) await expect(store.getClientState('c')).rejects.toThrow(/unavailable/);
      expect(Date.now() - started).toBeLessThan(1000);
      // open: refused without a round trip
      const t = Date.now();
      await expect(store.revokeClient('c', 1)).rejects.toThrow(/circuit open/);
      expect(Date.now() - t).toBeLessThan(20);
      expect(store.health().state).toBe('degraded');
    } finally {
      redis.resume();
    }
    const back = Date.now();
    await until(() => store.health().state === 'up', 5000);
    expect(Date.now() - back).toBeLessThan(2000);
    await until(() => seen.some((c) => c.kind === 'reset'));
    await store.revokeClient('c', 1);
    expect((await store.getClientState('c')).revokedAt).toBe(1);
    await store.close();
  });

  it('Redis killed and restarted: acknowledged writes survive (appendonly), the feed resumes with reset', async () => {
    const store = await fresh({ commandTimeoutMs: 50 });
    await store.revokeClient('durable', 42);
    // appendfsync everysec: give the fsync its second
    await new Promise((r) => setTimeout(r, 1100));
    const seen = collect(store);
    await redis.kill();
    await expect(store.getClientState('durable')).rejects.toThrow();
    await redis.restart();
    const back = Date.now();
    await until(() => store.health().state === 'up', 5000);
    expect(Date.now() - back).toBeLessThan(2000);
    expect(await store.getClientState('durable')).toStrictEqual({ revokedAt: 42, notBefore: 42 });
    expect(seen.some((c) => c.kind === 'reset')).toBe(true);
    await store.close();
  });
});
