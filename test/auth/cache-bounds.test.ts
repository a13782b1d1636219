import { describe, expect, it } from 'vitest';
import { entryBytes, tokenCache } from '../../src/auth/cache-bounds.js';

describe('tokenCache: bounded by entries and by bytes', () => {
  it('keeps at most maxBytes of large entries, whatever the entry bound', () => {
    const cache = tokenCache<{ claims: { blob: string } }>({
      max: 50_000,
      maxBytes: 1024 * 1024,
      measure: (v) => v.claims,
    });
    const big = 'x'.repeat(100_000);
    for (let i = 0; i < 1000; i++) cache.set(`key-${i}`, { claims: { blob: big } });
    expect(cache.calculatedSize).toBeLessThanOrEqual(1024 * 1024);
    expect(cache.size).toBeLessThanOrEqual(10);
    expect(cache.has('key-999')).toBe(true); // least recently used go first
    expect(cache.has('key-0')).toBe(false);
  });

  it('keeps at most max small entries', () => {
    const cache = tokenCache<{ n: number }>({ max: 100, measure: (v) => v });
    for (let i = 0; i < 10_000; i++) cache.set(`k${i}`, { n: i });
    expect(cache.size).toBe(100);
  });

  it('counts the key, the JSON of the measured value and an overhead', () => {
    expect(entryBytes({ a: 'bc' }, 'key')).toBe(3 + 256 + '{"a":"bc"}'.length);
  });
});
