import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StoreChange } from '../../src/store/change-feed.js';
import type { StoreUnderTest, TestableStore } from './store-contract.js';

/** Resolves with the first change that `match` accepts, or a reset (which names everything); rejects after `ms`. */
export function nextChange(
  store: TestableStore,
  match: (change: StoreChange) => boolean,
  ms = 3000,
): Promise<StoreChange> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error('no change seen'));
    }, ms);
    const off = store.onChange((change) => {
      if (change.kind !== 'reset' && !match(change)) return;
      clearTimeout(timer);
      off();
      resolve(change);
    });
  });
}

/** DocumentStore (versioned documents, append-only logs) and ChangeFeed, shared by every Store implementation. */
export function documentContract(name: string, create: () => Promise<StoreUnderTest>): void {
  describe(`${name}: DocumentStore and ChangeFeed contract`, () => {
    let sut: StoreUnderTest;
    let store: TestableStore;

    beforeEach(async () => {
      sut = await create();
      store = sut.store;
    });

    afterEach(async () => {
      await sut.dispose();
    });

    describe('documents', () => {
      it('creates with expected version 0, then versions grow by one', async () => {
        expect(await store.getDocument('client', 'a')).toBeUndefined();
        expect(await store.putDocument('client', 'a', '{"n":1}', 0)).toBe(1);
        expect(await store.getDocument('client', 'a')).toStrictEqual({
          kind: 'client',
          id: 'a',
          version: 1,
          body: '{"n":1}',
        });
        expect(await store.putDocument('client', 'a', '{"n":2}', 1)).toBe(2);
        expect((await store.getDocument('client', 'a'))?.body).toBe('{"n":2}');
      });

      it('refuses a create over an existing record and a stale update', async () => {
        await store.putDocument('client', 'a', '1', 0);
        expect(await store.putDocument('client', 'a', 'x', 0)).toBeUndefined();
        expect(await store.putDocument('client', 'a', 'x', 5)).toBeUndefined();
        expect(await store.putDocument('client', 'missing', 'x', 1)).toBeUndefined();
        expect((await store.getDocument('client', 'a'))?.body).toBe('1');
      });

      it('exactly one of many concurrent writers of one version wins', async () => {
        await store.putDocument('client', 'a', 'v1', 0);
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) => store.putDocument('client', 'a', `w${i}`, 1)),
        );
        expect(results.filter((r) => r === 2)).toHaveLength(1);
        expect(results.filter((r) => r === undefined)).toHaveLength(19);
      });

      it('lists by kind, sorted by id, and keeps kinds apart', async () => {
        await store.putDocument('client', 'b', 'B', 0);
        await store.putDocument('client', 'a:x', 'A', 0);
        await store.putDocument('other', 'a', 'O', 0);
        const listed = await store.listDocuments('client');
        expect(listed.map((d) => [d.id, d.body])).toStrictEqual([
          ['a:x', 'A'],
          ['b', 'B'],
        ]);
        expect(await store.listDocuments('none')).toStrictEqual([]);
        expect(await store.getDocument('other', 'b')).toBeUndefined();
      });

      it('deletes with or without a version check', async () => {
        await store.putDocument('client', 'a', '1', 0);
        await store.putDocument('client', 'b', '1', 0);
        expect(await store.deleteDocument('client', 'a', 7)).toBe(false);
        expect(await store.deleteDocument('client', 'a', 1)).toBe(true);
        expect(await store.deleteDocument('client', 'a')).toBe(false);
        expect(await store.deleteDocument('client', 'b')).toBe(true);
        expect(await store.listDocuments('client')).toStrictEqual([]);
        expect(await store.putDocument('client', 'a', 'again', 0)).toBe(1);
      });

      it('keeps unusual text intact', async () => {
        const body = JSON.stringify({ s: 'ü"\\\n\u0000', n: [1, 2] });
        await store.putDocument('k:ind', 'i d/ü', body, 0);
        expect((await store.getDocument('k:ind', 'i d/ü'))?.body).toBe(body);
      });
    });

    describe('logs', () => {
      it('appends at exactly last + 1 and reads in order', async () => {
        expect(await store.lastLogEntry('audit')).toBeUndefined();
        expect(await store.appendLogEntry('audit', 2, 'x')).toBe(false);
        expect(await store.appendLogEntry('audit', 1, 'a')).toBe(true);
        expect(await store.appendLogEntry('audit', 1, 'again')).toBe(false);
        expect(await store.appendLogEntry('audit', 2, 'b')).toBe(true);
        expect(await store.appendLogEntry('audit', 3, 'c')).toBe(true);
        expect(await store.lastLogEntry('audit')).toStrictEqual({ seq: 3, body: 'c' });
        expect(await store.readLog('audit', 2, 10)).toStrictEqual([
          { seq: 2, body: 'b' },
          { seq: 3, body: 'c' },
        ]);
        expect(await store.readLog('audit', 1, 1)).toStrictEqual([{ seq: 1, body: 'a' }]);
        expect(await store.readLog('audit', 4, 10)).toStrictEqual([]);
        expect(await store.readLog('other', 1, 10)).toStrictEqual([]);
      });

      it('of concurrent appends at one seq exactly one wins, and the log has no gaps', async () => {
        const results = await Promise.all(Array.from({ length: 10 }, (_, i) => store.appendLogEntry('l', 1, `${i}`)));
        expect(results.filter(Boolean)).toHaveLength(1);
        expect((await store.readLog('l', 1, 10)).map((e) => e.seq)).toStrictEqual([1]);
      });
    });

    describe('change feed', () => {
      it('names (or resets for) a client revocation and restore', async () => {
        let seen = nextChange(store, (c) => c.kind === 'client' && c.id === 'pos');
        await store.revokeClient('pos', 1);
        await seen;
        seen = nextChange(store, (c) => c.kind === 'client' && c.id === 'pos');
        await store.restoreClient('pos');
        await seen;
      });

      it('names a revoked token, a revoked family and a document write', async () => {
        let seen = nextChange(store, (c) => c.kind === 'token' && c.id === 'j1');
        await store.revokeToken('j1', Date.now() + 60_000);
        await seen;
        await store.saveRefreshToken({
          hash: 'h',
          familyId: 'fam',
          clientId: 'c',
          scopes: [],
          issuedAt: 1,
          expiresAt: Date.now() + 60_000,
          revoked: false,
        });
        seen = nextChange(store, (c) => c.kind === 'family' && c.id === 'fam');
        await store.revokeRefreshFamily('fam');
        await seen;
        seen = nextChange(store, (c) => c.kind === 'document' && c.docKind === 'client' && c.id === 'd');
        await store.putDocument('client', 'd', '{}', 0);
        await seen;
      });

      it('stops calling a listener after unsubscribe', async () => {
        const seen: StoreChange[] = [];
        const off = store.onChange((c) => seen.push(c));
        off();
        await store.revokeClient('pos', 1);
        await new Promise((r) => setTimeout(r, 300));
        expect(seen).toStrictEqual([]);
      });
    });

    describe('export and import (store migrate)', () => {
      it('exports what was written; importing it again changes nothing', async () => {
        await store.revokeClient('c1', 10);
        await store.revokeToken('j1', Date.now() + 60_000);
        await store.putDocument('client', 'd', '{}', 0);
        await store.appendLogEntry('audit', 1, 'a');
        const items = [];
        for await (const item of store.exportState()) items.push(item);
        expect(items.map((i) => i.type).sort()).toStrictEqual(['client', 'document', 'jti', 'log']);
        for (const item of items) expect(await store.importState(item)).toBe(false);
      });
    });
  });
}
