import { errors } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JwksCache, JwksUnavailableError, type JwksCacheOptions } from '../../src/auth/jwks-cache.js';
import { jwksOf, makeKey, startJwksServer, type JwksServer, type TestKey } from '../helpers/jwks-server.js';

let server: JwksServer;
let a: TestKey;
let b: TestKey;
let t: number;
let cache: JwksCache;

const header = (key: TestKey, kid: string | undefined = key.kid) => ({ alg: key.alg, ...(kid ? { kid } : {}) });
const make = (options: JwksCacheOptions = {}) => (cache = new JwksCache(server.url, { now: () => t, ...options }));

beforeEach(async () => {
  [a, b] = await Promise.all([makeKey('ES256'), makeKey('ES256')]);
  server = await startJwksServer(jwksOf(a));
  t = 1_000_000;
});

afterEach(async () => {
  cache?.close();
  await server.close();
});

describe('JwksCache', () => {
  it('fetches on first use and then answers from the cached set', async () => {
    make();
    for (let i = 0; i < 5; i++) expect(await cache.keysFor(header(a))).toHaveLength(1);
    expect(server.requests).toBe(1);
    expect(cache.stats()).toMatchObject({ fetches: 1, failures: 0, hits: 5, misses: 0, keys: 1 });
  });

  it('shares one fetch between concurrent first look-ups', async () => {
    make();
    await Promise.all(Array.from({ length: 20 }, () => cache.keysFor(header(a))));
    expect(server.requests).toBe(1);
  });

  it('refetches on an unknown kid at most once per cool-down', async () => {
    make({ cooldownMs: 30_000 });
    await cache.keysFor(header(a));
    // right after a fetch, an unknown kid does not refetch
    await expect(cache.keysFor({ alg: 'ES256', kid: 'nope' })).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey);
    expect(server.requests).toBe(1);

    t += 30_001;
    await expect(cache.keysFor({ alg: 'ES256', kid: 'nope' })).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey);
    expect(server.requests).toBe(2);
    // many more unknown kids in the same cool-down: no request
    for (let i = 0; i < 10; i++) {
      await expect(cache.keysFor({ alg: 'ES256', kid: `x${i}` })).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey);
    }
    expect(server.requests).toBe(2);

    t += 30_001;
    const many = Array.from({ length: 10 }, (_, i) => cache.keysFor({ alg: 'ES256', kid: `y${i}` }));
    for (const p of many) await expect(p).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey);
    expect(server.requests).toBe(3); // concurrent misses shared one fetch
    expect(cache.stats().misses).toBe(22);
  });

  it('picks up a rotated key (new kid) after the cool-down', async () => {
    make();
    await cache.keysFor(header(a));
    server.setKeys(jwksOf(a, b));
    t += 30_001;
    expect(await cache.keysFor(header(b))).toHaveLength(1);
    expect(server.requests).toBe(2);
    expect(cache.stats().generation).toBe(0); // nothing withdrawn
  });

  it('refreshes a set older than max age in the background and notices withdrawn keys', async () => {
    make({ maxAgeMs: 600_000 });
    await cache.keysFor(header(a));
    server.setKeys(jwksOf(b));
    t += 600_000;
    expect(await cache.keysFor(header(a))).toHaveLength(1); // the stale set answers at once
    await cache.refetch(); // joins the background refresh
    expect(server.requests).toBe(2);
    expect(cache.stats().generation).toBe(1);
    await expect(cache.keysFor(header(a))).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey);
    expect(await cache.keysFor(header(b))).toHaveLength(1);
  });

  describe('keeps the cached keys working', () => {
    it('while the endpoint is down', async () => {
      make({ maxAgeMs: 60_000, retryMs: 5_000 });
      await cache.keysFor(header(a));
      await server.down();
      for (let i = 0; i < 5; i++) {
        t += 61_000;
        expect(await cache.keysFor(header(a))).toHaveLength(1);
        await cache.refetch();
      }
      expect(cache.stats().failures).toBeGreaterThanOrEqual(5);
      await server.up();
      t += 61_000;
      await cache.keysFor(header(a));
      await cache.refetch();
      expect(cache.stats().failures).toBeLessThan(cache.stats().fetches);
    });

    it.each([
      ['500', () => server.setMode('error')],
      ['not JSON', () => (server.setMode('garbage'), server.setGarbage('<html>oops</html>', 'text/html'))],
      ['a JSON array', () => (server.setMode('garbage'), server.setGarbage('[]'))],
      ['keys not an array', () => (server.setMode('garbage'), server.setGarbage('{"keys":"x"}'))],
      ['an empty set', () => (server.setMode('garbage'), server.setGarbage('{"keys":[]}'))],
      ['only a symmetric key', () => server.setKeys({ keys: [{ kty: 'oct', k: 'c2VjcmV0', kid: a.kid }] })],
      ['only a private key', () => server.setKeys({ keys: [b.privateJwk] })],
      ['a redirect', () => server.setMode('redirect')],
    ])('when it answers %s', async (_name, breakIt) => {
      make({ cooldownMs: 30_000 });
      await cache.keysFor(header(a));
      breakIt();
      server.setRedirectTarget(jwksOf(b));
      t += 30_001;
      // an unknown kid forces a refetch, which fails: the old set stays
      await expect(cache.keysFor(header(b))).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey);
      expect(server.requests).toBe(2);
      expect(cache.stats().failures).toBe(1);
      expect(await cache.keysFor(header(a))).toHaveLength(1);
      expect(server.redirectTargetRequests).toBe(0);
    });
  });

  it('without any cached set, a failing endpoint is unavailable, retried at most every retryMs', async () => {
    server.setMode('error');
    make({ retryMs: 5_000 });
    await expect(cache.keysFor(header(a))).rejects.toBeInstanceOf(JwksUnavailableError);
    await expect(cache.keysFor(header(a))).rejects.toBeInstanceOf(JwksUnavailableError);
    expect(server.requests).toBe(1);
    t += 5_000;
    server.setMode('ok');
    expect(await cache.keysFor(header(a))).toHaveLength(1);
    expect(server.requests).toBe(2);
  });

  it('gives up on a hanging endpoint after the timeout', async () => {
    server.setMode('hang');
    make({ timeoutMs: 200 });
    const started = Date.now();
    await expect(cache.keysFor(header(a))).rejects.toBeInstanceOf(JwksUnavailableError);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('does not follow redirects', async () => {
    server.setMode('redirect');
    server.setRedirectTarget(jwksOf(a));
    make();
    await expect(cache.keysFor(header(a))).rejects.toBeInstanceOf(JwksUnavailableError);
    expect(server.redirectTargetRequests).toBe(0);
  });

  it('drops private and symmetric keys and keeps the public ones', async () => {
    server.setKeys({ keys: [a.privateJwk, { kty: 'oct', k: 'c2VjcmV0', kid: 'sym' }, b.publicJwk] });
    make();
    expect(await cache.keysFor(header(b))).toHaveLength(1);
    await expect(cache.keysFor(header(a))).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey);
    await expect(cache.keysFor({ alg: 'HS256', kid: 'sym' })).rejects.toThrow();
    expect(cache.stats().keys).toBe(1);
  });

  it('keeps at most maxKeys keys', async () => {
    const keys = Array.from({ length: 150 }, (_, i) => ({ ...a.publicJwk, kid: `k${i}` }));
    server.setKeys({ keys });
    make({ maxKeys: 100 });
    expect(await cache.keysFor({ alg: 'ES256', kid: 'k99' })).toHaveLength(1);
    await expect(cache.keysFor({ alg: 'ES256', kid: 'k100' })).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey);
    expect(cache.stats().keys).toBe(100);
  });

  it('refuses an answer larger than maxBytes', async () => {
    server.setGarbage(JSON.stringify({ keys: [a.publicJwk], pad: 'x'.repeat(10_000) }));
    server.setMode('garbage');
    make({ maxBytes: 4_096 });
    await expect(cache.keysFor(header(a))).rejects.toBeInstanceOf(JwksUnavailableError);
  });

  it('offers every matching key (up to maxCandidates) for a header without kid', async () => {
    server.setKeys(jwksOf(a, b));
    make({ maxCandidates: 4 });
    expect(await cache.keysFor({ alg: 'ES256' })).toHaveLength(2);
  });
});
