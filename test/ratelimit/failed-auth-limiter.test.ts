import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/store/memory-store.js';
import { FailedAuthLimiter } from '../../src/ratelimit/failed-auth-limiter.js';
import { rateLimitHeaders, rateLimited, retrySeconds } from '../../src/ratelimit/ratelimit-headers.js';

const rate = { limit: 3, windowMs: 60_000 };

describe('FailedAuthLimiter', () => {
  it('is inactive (free) until something is blocked', async () => {
    const l = new FailedAuthLimiter(new MemoryStore(), () => rate);
    expect(l.active).toBe(false);
    expect(await l.recordFailure('10.0.0.1', 'pos', 1000)).toBe(0);
    expect(l.active).toBe(false);
  });

  it('blocks an address and a client id once they reach the limit, until the window ends', async () => {
    const l = new FailedAuthLimiter(new MemoryStore(), () => rate);
    expect(await l.recordFailure('10.0.0.1', 'pos', 1000)).toBe(0);
    expect(await l.recordFailure('10.0.0.2', 'pos', 1000)).toBe(0);
    expect(l.clientBlockedMs('pos', 1000)).toBe(0);
    expect(await l.recordFailure('10.0.0.1', 'pos', 1000)).toBe(0); // the third failure is still a 401
    expect(l.clientBlockedMs('pos', 1000)).toBe(59_000);
    expect(l.addressBlockedMs('10.0.0.1', 1000)).toBe(0);
    expect(l.addressBlockedMs('10.0.0.2', 1000)).toBe(0);
    expect(await l.recordFailure('10.0.0.1', undefined, 2000)).toBe(0); // the address's third
    expect(l.addressBlockedMs('10.0.0.1', 2000)).toBe(58_000);
    expect(await l.recordFailure('10.0.0.1', undefined, 3000)).toBe(57_000); // over the limit (another instance): 429
    expect(l.clientBlockedMs('pos', 60_000)).toBe(0);
    expect(l.addressBlockedMs('10.0.0.1', 60_000)).toBe(0);
    expect(l.active).toBe(false);
  });

  it('reads the limit from the current config at every failure', async () => {
    let current = rate;
    const l = new FailedAuthLimiter(new MemoryStore(), () => current);
    current = { limit: 1, windowMs: 60_000 };
    await l.recordFailure(undefined, 'x', 0);
    expect(l.clientBlockedMs('x', 0)).toBe(60_000);
  });
});

describe('429 fields (draft-ietf-httpapi-ratelimit-headers)', () => {
  it('names the policy with quota and window, and the remaining quota with the reset', () => {
    expect(rateLimitHeaders('client', { limit: 50, windowMs: 1000 }, 0, 300)).toEqual({
      'RateLimit-Policy': '"client";q=50;w=1',
      RateLimit: '"client";r=0;t=1',
    });
    expect(retrySeconds(0)).toBe(1);
    expect(retrySeconds(1001)).toBe(2);
  });

  it('is a 429 OAuthError without a challenge and with Retry-After', () => {
    const err = rateLimited('failed_auth', { limit: 20, windowMs: 60_000 }, 12_500, 'failed_auth_limited');
    expect(err.status).toBe(429);
    expect(err.challenge).toBe('none');
    expect(err.reason).toBe('failed_auth_limited');
    expect(err.options.headers).toEqual({
      'Retry-After': '13',
      'RateLimit-Policy': '"failed_auth";q=20;w=60',
      RateLimit: '"failed_auth";r=0;t=13',
    });
  });
});
