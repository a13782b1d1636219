import { describe, expect, it } from 'vitest';
import { AccessTtlCeiling } from '../../src/issuer/access-ttl-ceiling.js';

const MIN = 60_000;

describe('AccessTtlCeiling', () => {
  it('is the ttl in force when it was never lowered', () => {
    const c = new AccessTtlCeiling(30 * MIN);
    expect(c.maxLifetimeMs(0)).toBe(30 * MIN);
    c.update(60 * MIN, 1000); // raised: takes effect at once
    expect(c.maxLifetimeMs(1000)).toBe(60 * MIN);
  });

  it('keeps a lowered ttl as the ceiling until every token minted under it has expired (plus 30 s leeway)', () => {
    const c = new AccessTtlCeiling(30 * MIN);
    c.update(5 * MIN, 10 * MIN);
    expect(c.maxLifetimeMs(10 * MIN)).toBe(30 * MIN);
    expect(c.maxLifetimeMs(40 * MIN + 29_000)).toBe(30 * MIN);
    expect(c.maxLifetimeMs(40 * MIN + 30_000)).toBe(5 * MIN);
  });

  it('stays small through a storm of reloads that flip the ttl', () => {
    const c = new AccessTtlCeiling(30 * MIN);
    for (let i = 0; i < 10_000; i++) c.update(i % 2 === 0 ? 5 * MIN : 30 * MIN, i);
    expect(c.maxLifetimeMs(10_000)).toBe(30 * MIN);
    expect((c as unknown as { earlier: unknown[] }).earlier.length).toBeLessThanOrEqual(1);
  });
});
