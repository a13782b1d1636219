import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/store/memory-store.js';
import { documentContract } from './document-contract.js';
import { refreshRecord, storeContract } from './store-contract.js';

storeContract('MemoryStore', async () => {
  const store = new MemoryStore();
  return { store, dispose: () => store.close() };
});

documentContract('MemoryStore', async () => {
  const store = new MemoryStore();
  return { store, dispose: () => store.close() };
});

describe('MemoryStore bounds', () => {
  it('drops ended counter windows every 1000 increments', async () => {
    const store = new MemoryStore();
    for (let i = 0; i < 10; i++) await store.incrementCounter(`old-${i}`, 1000, 0);
    for (let i = 0; i < 989; i++) await store.incrementCounter(`current-${i}`, 1000, 50_000);
    expect(store.size().counters).toBe(999);
    await store.incrementCounter('one-more', 1000, 50_000); // the 1000th new window
    expect(store.size().counters).toBe(990);
  });

  it('never holds more than maxCounters, dropping the oldest windows first', async () => {
    const store = new MemoryStore({ maxCounters: 100 });
    await store.incrementCounter('first', 60_000, 0);
    for (let i = 0; i < 500; i++) await store.incrementCounter(`k${i}`, 60_000, 0);
    expect(store.size().counters).toBeLessThanOrEqual(100);
    expect((await store.incrementCounter('k499', 60_000, 0)).count).toBe(2);
    expect((await store.incrementCounter('first', 60_000, 0)).count).toBe(1);
  });

  it('drops expired refresh tokens, their empty families and long-expired jtis', async () => {
    const store = new MemoryStore();
    const now = Date.now();
    await store.saveRefreshToken(refreshRecord({ hash: 'dead', familyId: 'f-dead', expiresAt: now - 1 }));
    await store.saveRefreshToken(refreshRecord({ hash: 'live', familyId: 'f-live', expiresAt: now + 60_000 }));
    await store.revokeToken('old', now - 60 * 60_000);
    await store.revokeToken('live', now + 60_000);
    await store.purge(now);
    expect(store.size()).toMatchObject({ refreshTokens: 1, families: 1, revokedTokens: 1 });
  });

  it('purges by itself every 1000 writes', async () => {
    const store = new MemoryStore();
    const now = Date.now();
    await store.saveRefreshToken(refreshRecord({ hash: 'dead', expiresAt: now - 1 }));
    for (let i = 0; i < 998; i++) await store.revokeToken(`live-${i}`, now + 60_000);
    expect(store.size().refreshTokens).toBe(1);
    await store.revokeToken('the-1000th', now + 60_000);
    expect(store.size().refreshTokens).toBe(0);
  });
});
