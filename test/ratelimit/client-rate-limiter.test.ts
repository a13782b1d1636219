import { describe, expect, it } from 'vitest';
import { ClientRateLimiter } from '../../src/ratelimit/client-rate-limiter.js';

const A = { issuer: 'local', clientId: 'a' };
const B = { issuer: 'local', clientId: 'b' };
const perSecond = (limit: number) => ({ limit, windowMs: 1000 });

describe('ClientRateLimiter (token bucket)', () => {
  it('allows a burst up to the limit, then says how long until the next token', () => {
    const l = new ClientRateLimiter();
    for (let i = 0; i < 5; i++) expect(l.take(A, perSecond(5), 0)).toBe(0);
    expect(l.take(A, perSecond(5), 0)).toBe(200);
    expect(l.remaining(A)).toBe(0);
  });

  it('refills continuously at limit per window', () => {
    const l = new ClientRateLimiter();
    for (let i = 0; i < 5; i++) l.take(A, perSecond(5), 0);
    expect(l.take(A, perSecond(5), 199)).toBeGreaterThan(0);
    expect(l.take(A, perSecond(5), 200)).toBe(0);
    expect(l.take(A, perSecond(5), 10_000)).toBe(0);
    expect(l.remaining(A)).toBe(4); // never more than the capacity
  });

  it('keeps clients apart', () => {
    const l = new ClientRateLimiter();
    expect(l.take(A, perSecond(1), 0)).toBe(0);
    expect(l.take(A, perSecond(1), 0)).toBeGreaterThan(0);
    expect(l.take(B, perSecond(1), 0)).toBe(0);
  });

  it('starts a fresh bucket when the client’s rate changes (reload), and forgets removed clients', () => {
    const l = new ClientRateLimiter();
    l.take(A, perSecond(1), 0);
    expect(l.take(A, perSecond(1), 0)).toBeGreaterThan(0);
    expect(l.take(A, perSecond(2), 0)).toBe(0);
    l.retain('local', new Set(['b']));
    expect(l.remaining(A)).toBe(0);
    expect(l.take(A, perSecond(2), 0)).toBe(0);
    expect(l.remaining(A)).toBe(1);
  });

  it('keys on the pair (issuer, client id): an equal id of another issuer has its own bucket', () => {
    const l = new ClientRateLimiter();
    const foreign = { issuer: 'https://idp.example/', clientId: 'a' };
    expect(l.take(foreign, perSecond(1), 0)).toBe(0);
    expect(l.take(foreign, perSecond(1), 0)).toBeGreaterThan(0);
    expect(l.take(A, perSecond(1), 0)).toBe(0);
    l.retain('local', new Set(['a']));
    expect(l.take(foreign, perSecond(1), 0)).toBe(0); // dropped with the reload: not a local client
  });
});

describe('ClientRateLimiter shared by workers (server.workers)', () => {
  it('allows limit / workers in each process, at least 1, so together they never pass the limit', () => {
    const two = new ClientRateLimiter(undefined, 2);
    let passed = 0;
    for (let i = 0; i < 10; i++) if (two.take(A, perSecond(5), 0) === 0) passed++;
    expect(passed).toBe(2);
    expect(two.take(A, perSecond(5), 500)).toBe(0); // refilled at 2 per second
    const many = new ClientRateLimiter(undefined, 8);
    expect(many.take(B, perSecond(5), 0)).toBe(0);
    expect(many.take(B, perSecond(5), 0)).toBeGreaterThan(0);
  });
});
