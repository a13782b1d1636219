import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientRateLimiter } from '../../src/ratelimit/client-rate-limiter.js';
import { RedisStore } from '../../src/store/redis-store.js';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';

let redis: RedisServer;

beforeAll(async () => {
  redis = await startRedis();
});

afterAll(async () => {
  await redis?.stop();
});

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('not in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('ClientRateLimiter on Redis', () => {
  it('two limiters on two instances share one budget', async () => {
    const stores = [0, 1].map(() => new RedisStore(redis.url, { prefix: 'rl1:', commandTimeoutMs: 500 }));
    for (const s of stores) await s.connect();
    const limiters = stores.map(
      (s) => new ClientRateLimiter({ consumeRate: s.consumeRate.bind(s), instances: () => s.instances() }),
    );
    const rate = { limit: 10, windowMs: 60_000 };
    const waits = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        limiters[i % 2]!.take({ issuer: 'local', clientId: 'pos' }, rate, Date.now()),
      ),
    );
    expect(waits.filter((w) => w === 0)).toHaveLength(10);
    for (const w of waits.filter((x) => x > 0)) expect(w).toBeGreaterThan(1000); // about one interval (6 s)
    for (const s of stores) await s.close();
  });

  it('Redis unreachable: each instance falls back to its share, limit / live instances', async () => {
    const stores = [0, 1].map(() => new RedisStore(redis.url, { prefix: 'rl2:', commandTimeoutMs: 50 }));
    for (const s of stores) await s.connect();
    await until(() => stores.every((s) => s.instances() === 2));
    const store = stores[0]!;
    const limiter = new ClientRateLimiter({
      consumeRate: store.consumeRate.bind(store),
      instances: () => store.instances(),
    });
    redis.pause();
    try {
      await until(() => store.health().state === 'degraded');
      const now = Date.now();
      const waits: number[] = [];
      for (let i = 0; i < 10; i++)
        waits.push(await limiter.take({ issuer: 'local', clientId: 'pos' }, { limit: 10, windowMs: 60_000 }, now));
      expect(waits.filter((w) => w === 0)).toHaveLength(5);
    } finally {
      redis.resume();
    }
    for (const s of stores) await s.close();
  });
});
