import { describe, expect, it } from 'vitest';
import { ClientRateLimiter } from '../../src/ratelimit/client-rate-limiter.js';

const perSecond = (limit: number) => ({ limit, windowMs: 1000 });

describe('ClientRateLimiter (token bucket)', () => {
  it('allows a burst up to the limit, then says how long until the next token', () => {
    const l = new ClientRateLimiter();
    for (let i = 0; i < 5; i++) expect(l.take('a', perSecond(5), 0)).toBe(0);
    expect(l.take('a', perSecond(5), 0)).toBe(200);
    expect(l.remaining('a')).toBe(0);
  });

  it('refills continuously at limit per window', () => {
    const l = new ClientRateLimiter();
    for (let i = 0; i < 5; i++) l.take('a', perSecond(5), 0);
    expect(l.take('a', perSecond(5), 199)).toBeGreaterThan(0);
    expect(l.take('a', perSecond(5), 200)).toBe(0);
    expect(l.take('a', perSecond(5), 10_000)).toBe(0);
    expect(l.remaining('a')).toBe(4); // never more than the capacity
  });

  it('keeps clients apart', () => {
    const l = new ClientRateLimiter();
    expect(l.take('a', perSecond(1), 0)).toBe(0);
    expect(l.take('a', perSecond(1), 0)).toBeGreaterThan(0);
    expect(l.take('b', perSecond(1), 0)).toBe(0);
  });

  it('starts a fresh bucket when the client’s rate changes (reload), and forgets removed clients', () => {
    const l = new ClientRateLimiter();
    l.take('a', perSecond(1), 0);
    expect(l.take('a', perSecond(1), 0)).toBeGreaterThan(0);
    expect(l.take('a', perSecond(2), 0)).toBe(0);
    l.retain(new Set(['b']));
    expect(l.remaining('a')).toBe(0);
    expect(l.take('a', perSecond(2), 0)).toBe(0);
    expect(l.remaining('a')).toBe(1);
  });
});
