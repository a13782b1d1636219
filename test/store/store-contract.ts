import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RefreshRecord, Store } from '../../src/store/store.js';

/** Both stores offer an explicit purge besides the automatic one; the contract uses it to test expiry. */
export type TestableStore = Store & { purge(now?: number): Promise<void> };

export interface StoreUnderTest {
  store: TestableStore;
  /** closes the store and removes whatever the factory created */
  dispose(): Promise<void>;
}

const MIN = 60_000;

export function refreshRecord(overrides: Partial<RefreshRecord> = {}): RefreshRecord {
  return {
    hash: 'a'.repeat(64),
    familyId: 'family-1',
    clientId: 'pos-partner',
    scopes: ['menu:read', 'orders:write'],
    tenant: 'rest-berlin',
    issuedAt: 1_700_000_000_000,
    expiresAt: Date.now() + 30 * 24 * 60 * MIN,
    revoked: false,
    ...overrides,
  };
}

/**
 * The behaviour every Store implementation must share. Registers its describe/it blocks for `create`, which is called
 * once per test and must return a fresh, empty store.
 */
export function storeContract(name: string, create: () => Promise<StoreUnderTest>): void {
  describe(`${name}: Store contract`, () => {
    let sut: StoreUnderTest;
    let store: TestableStore;

    beforeEach(async () => {
      sut = await create();
      store = sut.store;
    });

    afterEach(async () => {
      await sut.dispose();
    });

    describe('client revocation', () => {
      it('knows nothing about a client it never saw', async () => {
        expect(await store.getClientState('nobody')).toStrictEqual({});
      });

      it('revokeClient sets revokedAt and notBefore to the given instant', async () => {
        await store.revokeClient('pos-partner', 1000);
        expect(await store.getClientState('pos-partner')).toStrictEqual({ revokedAt: 1000, notBefore: 1000 });
        expect(await store.getClientState('other')).toStrictEqual({});
      });

      it('restoreClient clears revokedAt but notBefore survives, so older tokens stay invalid', async () => {
        await store.revokeClient('pos-partner', 1000);
        await store.restoreClient('pos-partner');
        expect(await store.getClientState('pos-partner')).toStrictEqual({ notBefore: 1000 });
      });

      it('a later revocation moves notBefore forward; an earlier one never moves it back', async () => {
        await store.revokeClient('pos-partner', 1000);
        await store.restoreClient('pos-partner');
        await store.revokeClient('pos-partner', 5000);
        expect(await store.getClientState('pos-partner')).toStrictEqual({ revokedAt: 5000, notBefore: 5000 });
        await store.revokeClient('pos-partner', 3000);
        expect(await store.getClientState('pos-partner')).toStrictEqual({ revokedAt: 3000, notBefore: 5000 });
      });

      it('restoring a client that was never revoked is a no-op', async () => {
        await store.restoreClient('nobody');
        expect(await store.getClientState('nobody')).toStrictEqual({});
      });

      it('the returned state is a copy', async () => {
        await store.revokeClient('pos-partner', 1000);
        const state = await store.getClientState('pos-partner');
        delete state.revokedAt;
        expect((await store.getClientState('pos-partner')).revokedAt).toBe(1000);
      });
    });

    describe('revoked access tokens', () => {
      it('reports a revoked jti and only that one', async () => {
        expect(await store.isTokenRevoked('jti-1')).toBe(false);
        await store.revokeToken('jti-1', Date.now() + 30 * MIN);
        expect(await store.isTokenRevoked('jti-1')).toBe(true);
        expect(await store.isTokenRevoked('jti-2')).toBe(false);
      });

      it('revoking twice is harmless and keeps the later expiry', async () => {
        const exp = Date.now() + 30 * MIN;
        await store.revokeToken('jti-1', exp);
        await store.revokeToken('jti-1', Date.now() - 60 * MIN);
        await store.purge(Date.now());
        expect(await store.isTokenRevoked('jti-1')).toBe(true);
      });

      it('still reports a token that expired moments ago (the verifier accepts exp with leeway)', async () => {
        await store.revokeToken('jti-1', Date.now() - 1000);
        await store.purge(Date.now());
        expect(await store.isTokenRevoked('jti-1')).toBe(true);
      });

      it('drops a revoked jti long after it expired', async () => {
        await store.revokeToken('old', Date.now() - 60 * MIN);
        await store.revokeToken('live', Date.now() + 60 * MIN);
        expect(await store.isTokenRevoked('old')).toBe(false);
        await store.purge(Date.now());
        expect(await store.isTokenRevoked('old')).toBe(false);
        expect(await store.isTokenRevoked('live')).toBe(true);
      });
    });

    describe('refresh tokens', () => {
      it('saves and finds a record by hash, with every field', async () => {
        const record = refreshRecord({ usedAt: 1_700_000_001_000 });
        await store.saveRefreshToken(record);
        expect(await store.findRefreshToken(record.hash)).toStrictEqual(record);
      });

      it('leaves optional fields out when they were not set', async () => {
        const record = refreshRecord();
        delete record.tenant;
        await store.saveRefreshToken(record);
        const found = await store.findRefreshToken(record.hash);
        expect(found).toStrictEqual(record);
        expect(found).not.toHaveProperty('tenant');
        expect(found).not.toHaveProperty('usedAt');
      });

      it('keeps an empty scope list and scopes with unusual characters intact', async () => {
        await store.saveRefreshToken(refreshRecord({ hash: 'h1', scopes: [] }));
        await store.saveRefreshToken(refreshRecord({ hash: 'h2', scopes: ['a:b', 'ü"\\', 'x,y'] }));
        expect((await store.findRefreshToken('h1'))?.scopes).toStrictEqual([]);
        expect((await store.findRefreshToken('h2'))?.scopes).toStrictEqual(['a:b', 'ü"\\', 'x,y']);
      });

      it('returns undefined for an unknown hash', async () => {
        expect(await store.findRefreshToken('nope')).toBeUndefined();
      });

      it('returns copies: changing a found record does not change the store', async () => {
        await store.saveRefreshToken(refreshRecord());
        const found = (await store.findRefreshToken('a'.repeat(64)))!;
        found.revoked = true;
        found.scopes.push('admin');
        expect(await store.findRefreshToken('a'.repeat(64))).toStrictEqual(
          refreshRecord({ expiresAt: found.expiresAt }),
        );
      });

      it('markRefreshTokenUsed succeeds once; the second call is a replay', async () => {
        await store.saveRefreshToken(refreshRecord());
        expect(await store.markRefreshTokenUsed('a'.repeat(64), 2000)).toBe(true);
        expect(await store.markRefreshTokenUsed('a'.repeat(64), 3000)).toBe(false);
        expect((await store.findRefreshToken('a'.repeat(64)))?.usedAt).toBe(2000);
      });

      it('markRefreshTokenUsed is false for an unknown token', async () => {
        expect(await store.markRefreshTokenUsed('nope', 2000)).toBe(false);
      });

      it('exactly one of many concurrent markRefreshTokenUsed calls wins', async () => {
        await store.saveRefreshToken(refreshRecord());
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) => store.markRefreshTokenUsed('a'.repeat(64), 2000 + i)),
        );
        expect(results.filter(Boolean)).toHaveLength(1);
      });

      it('revokeRefreshFamily revokes every token of the family and nothing else', async () => {
        await store.saveRefreshToken(refreshRecord({ hash: 'f1-a', familyId: 'f1' }));
        await store.saveRefreshToken(refreshRecord({ hash: 'f1-b', familyId: 'f1', usedAt: 5 }));
        await store.saveRefreshToken(refreshRecord({ hash: 'f2-a', familyId: 'f2' }));
        await store.revokeRefreshFamily('f1');
        expect((await store.findRefreshToken('f1-a'))?.revoked).toBe(true);
        expect((await store.findRefreshToken('f1-b'))?.revoked).toBe(true);
        expect((await store.findRefreshToken('f2-a'))?.revoked).toBe(false);
      });

      it('a token saved into a family that was already revoked is revoked too', async () => {
        await store.saveRefreshToken(refreshRecord({ hash: 'f1-a', familyId: 'f1' }));
        await store.revokeRefreshFamily('f1');
        await store.saveRefreshToken(refreshRecord({ hash: 'f1-b', familyId: 'f1' }));
        expect((await store.findRefreshToken('f1-b'))?.revoked).toBe(true);
      });

      it('revoking an unknown family is a no-op', async () => {
        await store.revokeRefreshFamily('nope');
        await store.saveRefreshToken(refreshRecord({ hash: 'x', familyId: 'other' }));
        expect((await store.findRefreshToken('x'))?.revoked).toBe(false);
      });

      it('replay detection end to end: used token presented again revokes the family', async () => {
        await store.saveRefreshToken(refreshRecord({ hash: 'gen1', familyId: 'fam' }));
        expect(await store.markRefreshTokenUsed('gen1', 10)).toBe(true);
        await store.saveRefreshToken(refreshRecord({ hash: 'gen2', familyId: 'fam' }));
        // the stolen gen1 comes back
        expect(await store.markRefreshTokenUsed('gen1', 20)).toBe(false);
        await store.revokeRefreshFamily('fam');
        expect((await store.findRefreshToken('gen2'))?.revoked).toBe(true);
      });

      it('purges tokens past their expiry and keeps live ones', async () => {
        const now = Date.now();
        await store.saveRefreshToken(refreshRecord({ hash: 'dead', expiresAt: now - 1 }));
        await store.saveRefreshToken(refreshRecord({ hash: 'live', expiresAt: now + MIN }));
        await store.purge(now);
        expect(await store.findRefreshToken('dead')).toBeUndefined();
        expect(await store.findRefreshToken('live')).toBeDefined();
      });
    });

    describe('refresh rotation (one atomic step)', () => {
      it('marks the used token and saves its successor', async () => {
        await store.saveRefreshToken(refreshRecord({ hash: 'gen1', familyId: 'fam' }));
        expect(await store.rotateRefreshToken('gen1', 10, refreshRecord({ hash: 'gen2', familyId: 'fam' }))).toBe(true);
        expect((await store.findRefreshToken('gen1'))?.usedAt).toBe(10);
        expect((await store.findRefreshToken('gen2'))?.revoked).toBe(false);
      });

      it('a replay saves nothing and revokes the whole family', async () => {
        await store.saveRefreshToken(refreshRecord({ hash: 'gen1', familyId: 'fam' }));
        await store.rotateRefreshToken('gen1', 10, refreshRecord({ hash: 'gen2', familyId: 'fam' }));
        expect(await store.rotateRefreshToken('gen1', 20, refreshRecord({ hash: 'gen2b', familyId: 'fam' }))).toBe(
          false,
        );
        expect(await store.findRefreshToken('gen2b')).toBeUndefined();
        expect((await store.findRefreshToken('gen2'))?.revoked).toBe(true);
        expect((await store.findRefreshToken('gen1'))?.revoked).toBe(true);
      });

      it('an unknown token saves nothing', async () => {
        expect(await store.rotateRefreshToken('nope', 1, refreshRecord({ hash: 'succ' }))).toBe(false);
        expect(await store.findRefreshToken('succ')).toBeUndefined();
      });

      it('exactly one of many concurrent rotations wins; the family ends revoked', async () => {
        await store.saveRefreshToken(refreshRecord({ hash: 'gen1', familyId: 'fam' }));
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            store.rotateRefreshToken('gen1', 100 + i, refreshRecord({ hash: `succ-${i}`, familyId: 'fam' })),
          ),
        );
        expect(results.filter(Boolean)).toHaveLength(1);
        const winner = results.indexOf(true);
        expect((await store.findRefreshToken(`succ-${winner}`))?.revoked).toBe(true);
      });

      it('a successor saved into a revoked family is born revoked', async () => {
        await store.saveRefreshToken(refreshRecord({ hash: 'gen1', familyId: 'fam' }));
        await store.saveRefreshToken(refreshRecord({ hash: 'other', familyId: 'fam' }));
        await store.revokeRefreshFamily('fam');
        await store.rotateRefreshToken('gen1', 1, refreshRecord({ hash: 'gen2', familyId: 'fam' }));
        expect((await store.findRefreshToken('gen2'))?.revoked ?? true).toBe(true);
      });
    });

    describe('GCRA rate (consumeRate)', () => {
      it('allows a burst, then one per interval; a refusal consumes nothing', async () => {
        const t = 1_700_000_000_000;
        for (let i = 0; i < 5; i++) expect((await store.consumeRate('k', 10, 1000, 5, t)).allowed).toBe(true);
        const refused = await store.consumeRate('k', 10, 1000, 5, t);
        expect(refused.allowed).toBe(false);
        expect(refused.retryAfterMs).toBeGreaterThan(0);
        expect(refused.retryAfterMs).toBeLessThanOrEqual(100);
        if (!store.shared) {
          // local stores use the caller's clock; a shared one takes the server's
          expect((await store.consumeRate('k', 10, 1000, 5, t + 99)).allowed).toBe(false);
          expect((await store.consumeRate('k', 10, 1000, 5, t + 100)).allowed).toBe(true);
        }
        expect((await store.consumeRate('other', 10, 1000, 5, t)).remaining).toBe(4);
      });

      it('admits exactly the burst of many concurrent requests', async () => {
        const results = await Promise.all(
          Array.from({ length: 50 }, () => store.consumeRate('c', 1, 60_000, 10, 1_700_000_000_000)),
        );
        expect(results.filter((r) => r.allowed)).toHaveLength(10);
      });
    });

    describe('fixed-window counters', () => {
      it('counts within a window and reports when it ends', async () => {
        const t0 = 1_700_000_040_000; // a multiple of 60 000
        expect(await store.incrementCounter('k', MIN, t0)).toStrictEqual({ count: 1, resetAt: t0 + MIN });
        expect(await store.incrementCounter('k', MIN, t0 + 10)).toStrictEqual({ count: 2, resetAt: t0 + MIN });
        expect(await store.incrementCounter('k', MIN, t0 + MIN - 1)).toStrictEqual({ count: 3, resetAt: t0 + MIN });
      });

      it('starts over at the window boundary', async () => {
        const t0 = 1_700_000_040_000;
        await store.incrementCounter('k', MIN, t0 + 5);
        await store.incrementCounter('k', MIN, t0 + 6);
        expect(await store.incrementCounter('k', MIN, t0 + MIN)).toStrictEqual({ count: 1, resetAt: t0 + 2 * MIN });
        expect(await store.incrementCounter('k', MIN, t0 + MIN + 1)).toStrictEqual({
          count: 2,
          resetAt: t0 + 2 * MIN,
        });
      });

      it('aligns windows to multiples of windowMs', async () => {
        expect(await store.incrementCounter('k', 1000, 12_345)).toStrictEqual({ count: 1, resetAt: 13_000 });
        expect(await store.incrementCounter('k', 1000, 12_999)).toStrictEqual({ count: 2, resetAt: 13_000 });
        expect(await store.incrementCounter('k', 1000, 13_000)).toStrictEqual({ count: 1, resetAt: 14_000 });
      });

      it('keeps keys and window sizes apart', async () => {
        const t = 1_700_000_040_000;
        await store.incrementCounter('a', MIN, t);
        await store.incrementCounter('a', MIN, t);
        expect((await store.incrementCounter('b', MIN, t)).count).toBe(1);
        expect((await store.incrementCounter('a', 1000, t)).count).toBe(1);
        expect((await store.incrementCounter('a', MIN, t)).count).toBe(3);
      });

      it('counts every one of many concurrent increments', async () => {
        const results = await Promise.all(Array.from({ length: 50 }, () => store.incrementCounter('k', MIN, 0)));
        expect(results.map((r) => r.count).sort((a, b) => a - b)).toStrictEqual(
          Array.from({ length: 50 }, (_, i) => i + 1),
        );
      });

      it('rejects a window that is not positive', async () => {
        await expect(store.incrementCounter('k', 0, 1000)).rejects.toThrow(/window/);
        await expect(store.incrementCounter('k', -5, 1000)).rejects.toThrow(/window/);
      });

      it('a purge keeps the current window', async () => {
        const t0 = 1_700_000_040_000;
        await store.incrementCounter('k', MIN, t0);
        await store.purge(t0 + 1);
        expect((await store.incrementCounter('k', MIN, t0 + 2)).count).toBe(2);
      });

      it('keeps counting correctly across thousands of increments and automatic purges', async () => {
        const t0 = 1_700_000_040_000;
        let last = 0;
        for (let i = 0; i < 2500; i++) last = (await store.incrementCounter('k', MIN, t0 + (i % 1000))).count;
        expect(last).toBe(2500);
      });
    });

    describe('lifecycle', () => {
      it('ping resolves while open', async () => {
        await expect(store.ping()).resolves.toBeUndefined();
      });

      it('probeWrite resolves while open, again and again (a real write of one tiny row)', async () => {
        await expect(store.probeWrite()).resolves.toBeUndefined();
        await expect(store.probeWrite()).resolves.toBeUndefined();
      });

      it('every method rejects after close instead of throwing', async () => {
        await store.close();
        await store.close(); // idempotent
        const calls: Array<() => Promise<unknown>> = [
          () => store.ping(),
          () => store.probeWrite(),
          () => store.getClientState('c'),
          () => store.revokeClient('c', 1),
          () => store.restoreClient('c'),
          () => store.revokeToken('j', 1),
          () => store.isTokenRevoked('j'),
          () => store.saveRefreshToken(refreshRecord()),
          () => store.findRefreshToken('h'),
          () => store.markRefreshTokenUsed('h', 1),
          () => store.revokeRefreshFamily('f'),
          () => store.incrementCounter('k', 1000, 1),
          () => store.rotateRefreshToken('h', 1, refreshRecord()),
          () => store.consumeRate('k', 1, 1000, 1, 1),
          () => store.getDocument('k', 'i'),
          () => store.putDocument('k', 'i', '{}', 0),
          () => store.appendLogEntry('l', 1, 'x'),
        ];
        for (const call of calls) {
          let promise: Promise<unknown> | undefined;
          expect(() => {
            promise = call();
          }).not.toThrow();
          await expect(promise).rejects.toThrow(/closed/);
        }
      });
    });
  });
}
