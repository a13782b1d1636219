import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OAuthError } from '../../src/errors/oauth-error.js';
import { ClientStateCache } from '../../src/store/client-state-cache.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { RedisStore } from '../../src/store/redis-store.js';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';

let redis: RedisServer;
let n = 0;

beforeAll(async () => {
  redis = await startRedis();
});

afterAll(async () => {
  await redis?.stop();
});

async function pair(): Promise<[RedisStore, RedisStore]> {
  const prefix = `cache${++n}:`;
  const stores = [0, 1].map(() => new RedisStore(redis.url, { prefix, commandTimeoutMs: 50 }));
  for (const s of stores) {
    await s.connect();
    await s.waitUntilReady();
  }
  return stores as [RedisStore, RedisStore];
}

async function until(check: () => Promise<boolean>, ms = 2000): Promise<number> {
  const start = performance.now();
  while (!(await check())) {
    if (performance.now() - start > ms) throw new Error('not in time');
    await new Promise((r) => setTimeout(r, 5));
  }
  return performance.now() - start;
}

describe('ClientStateCache on a shared store', () => {
  it('drops a cached entry as soon as another instance changes it (change feed)', async () => {
    const [a, b] = await pair();
    const cache = new ClientStateCache(b);
    expect(await cache.get('c')).toStrictEqual({});
    expect(await cache.isTokenRevoked('j')).toBe(false);
    await a.revokeClient('c', 5);
    await a.revokeToken('j', Date.now() + 60_000);
    const ms = await until(async () => (await cache.get('c')).revokedAt === 5 && (await cache.isTokenRevoked('j')));
    expect(ms).toBeLessThan(1000);
    // restore through the other instance: seen too
    await a.restoreClient('c');
    await until(async () => (await cache.get('c')).revokedAt === undefined);
    await a.close();
    await b.close();
  });

  it('Redis paused: cached state answers until stale_max, unseen state is 503 at once, then 503 for all', async () => {
    const [a, b] = await pair();
    await a.close();
    const cache = new ClientStateCache(b, { staleMaxMs: 1500 });
    await b.revokeClient('revoked', 1);
    await until(async () => (await cache.get('revoked')).revokedAt === 1);
    expect(await cache.get('seen')).toStrictEqual({});
    redis.pause();
    try {
      await until(async () => b.health().state === 'degraded', 3000);
      expect(await cache.get('seen')).toStrictEqual({});
      expect((await cache.get('revoked')).revokedAt).toBe(1); // a refusal stays a refusal
      const unseen = await cache.get('unseen').catch((e: unknown) => e);
      expect(unseen).toBeInstanceOf(OAuthError);
      expect((unseen as OAuthError).status).toBe(503);
      expect((unseen as OAuthError).options.headers?.['Retry-After']).toBe('1');
      await until(async () => (await cache.get('seen').catch(() => 'refused')) === 'refused', 3000);
    } finally {
      redis.resume();
    }
    await until(async () => b.health().state === 'up', 3000);
    expect(await cache.get('seen')).toStrictEqual({});
    await b.close();
  });

  it('with a local store keeps the 250 ms TTL', async () => {
    const store = new MemoryStore();
    const cache = new ClientStateCache(store);
    expect(await cache.get('c', 0)).toStrictEqual({});
    await store.revokeClient('c', 1);
    expect(await cache.get('c', 100)).toStrictEqual({});
    expect((await cache.get('c', 300)).revokedAt).toBe(1);
  });
});
