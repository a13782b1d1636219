/**
 * One trusted issuer's signing keys, fetched from its `jwks_uri` and kept (RFC 7517). Built for an identity provider
 * that is sometimes slow, down or wrong:
 *
 * - the last good key set stays in use while the endpoint is down or answers garbage (stale-if-error): jose's
 *   `createRemoteJWKSet` alone fails once its cache is old and a refetch fails, so it is not used here;
 * - a set older than `maxAgeMs` is refreshed in the background while the old one keeps answering;
 * - an unknown `kid` triggers a refetch only when none happened within `cooldownMs`, so tokens with made-up key ids
 *   cannot make the gateway hammer the provider; concurrent callers share one in-flight fetch;
 * - without a usable set, or with one older than `maxAgeMs`, fetches are spaced at least `retryMs` apart;
 * - only public asymmetric signing keys are kept, at most `maxKeys` (see jwks-keys.ts).
 */
import { createLocalJWKSet, errors, type JWK, type JWSHeaderParameters, type LocalJWKSet } from 'jose';
import { fetchJsonObject, UpstreamAuthError } from './jwks-http.js';
import { publicSigningKeys } from './jwks-keys.js';

export interface JwksCacheOptions {
  /** deadline of one JWKS request, ms (default 5 s) */
  timeoutMs?: number;
  /** age after which a set is refreshed in the background, ms (default 10 min) */
  maxAgeMs?: number;
  /** least time between two fetches caused by unknown key ids, ms (default 30 s) */
  cooldownMs?: number;
  /** least time between two fetches while no set is loaded or the set is stale, ms (default 5 s) */
  retryMs?: number;
  /** keys kept per issuer (default 100) */
  maxKeys?: number;
  /** largest JWKS answer read, bytes (default 512 KiB) */
  maxBytes?: number;
  /** candidate keys tried for a token without `kid` that several keys match (default 4) */
  maxCandidates?: number;
  now?: () => number;
  fetch?: typeof fetch;
}

/** Counters for metrics: plain numbers that only grow (except `keys` and `generation`). */
export interface JwksCacheStats {
  /** JWKS requests started */
  fetches: number;
  /** requests that failed or answered something that is not a usable key set */
  failures: number;
  /** key look-ups answered from the cached set */
  hits: number;
  /** look-ups for a key the cached set does not have */
  misses: number;
  /** keys in the current set */
  keys: number;
  /** bumped when a refetch drops a key that was in the previous set */
  generation: number;
}

/** No key set has ever been loaded and the endpoint cannot be reached right now: the token cannot be judged. */
export class JwksUnavailableError extends Error {
  constructor(
    readonly jwksUri: string,
    cause?: unknown,
  ) {
    super(`no keys could be loaded from ${jwksUri}`, { cause });
    this.name = 'JwksUnavailableError';
  }
}

type Key = Awaited<ReturnType<LocalJWKSet>>;

/** What makes a public key this key, whatever its `kid` says. */
const fingerprint = (jwk: JWK): string => [jwk.kty, jwk.crv, jwk.n, jwk.e, jwk.x, jwk.y, jwk.kid].join('|');

export class JwksCache {
  private readonly timeoutMs: number;
  private readonly maxAgeMs: number;
  private readonly cooldownMs: number;
  private readonly retryMs: number;
  private readonly maxKeys: number;
  private readonly maxBytes: number;
  private readonly maxCandidates: number;
  private readonly now: () => number;
  private readonly fetchFn: typeof fetch | undefined;
  private readonly closer = new AbortController();

  private set: LocalJWKSet | undefined;
  /** identities of the keys in `set`, to notice a key being withdrawn */
  private fingerprints = new Set<string>();
  private fetchedAt = Number.NEGATIVE_INFINITY;
  private lastAttemptAt = Number.NEGATIVE_INFINITY;
  private lastError: unknown;
  private inFlight: Promise<void> | undefined;
  private readonly counters: JwksCacheStats = { fetches: 0, failures: 0, hits: 0, misses: 0, keys: 0, generation: 0 };

  constructor(
    readonly jwksUri: string,
    options: JwksCacheOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 5_000;
    this.maxAgeMs = options.maxAgeMs ?? 600_000;
    this.cooldownMs = options.cooldownMs ?? 30_000;
    this.retryMs = options.retryMs ?? 5_000;
    this.maxKeys = options.maxKeys ?? 100;
    this.maxBytes = options.maxBytes ?? 512 * 1024;
    this.maxCandidates = options.maxCandidates ?? 4;
    this.now = options.now ?? Date.now;
    this.fetchFn = options.fetch;
  }

  /** Changes when a refetch withdraws a key: whatever was verified with the old set must be verified again. */
  get generation(): number {
    return this.counters.generation;
  }

  /** A snapshot of the counters. */
  stats(): JwksCacheStats {
    return { ...this.counters };
  }

  /**
   * The keys that may have signed a JWS with this header: one when `kid` (or `alg` alone) picks one, up to
   * `maxCandidates` when several match a header without `kid`. Throws jose's `JWKSNoMatchingKey` when no key
   * matches even after the refetch the cool-down allows, and `JwksUnavailableError` when no set was ever loaded.
   */
  async keysFor(header: JWSHeaderParameters): Promise<Key[]> {
    const set = await this.currentSet();
    try {
      const keys = await this.lookup(set, header);
      this.counters.hits++;
      return keys;
    } catch (err) {
      if (!(err instanceof errors.JWKSNoMatchingKey)) throw err;
    }
    this.counters.misses++;
    // Unknown kid: the issuer may have rotated. Refetch at most once per cool-down (or join a fetch in flight).
    if (this.inFlight) await this.inFlight;
    else if (this.may(this.cooldownMs)) await this.refetch();
    else throw new errors.JWKSNoMatchingKey();
    return this.lookup(this.set ?? set, header);
  }

  /** Fetches now unless a fetch is in flight (then waits for it). Never rejects; failures keep the old set. */
  refetch(): Promise<void> {
    this.inFlight ??= this.load().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  /** Aborts a fetch in flight; later look-ups use the cached set only. */
  close(): void {
    this.closer.abort();
  }

  private async currentSet(): Promise<LocalJWKSet> {
    if (this.set) {
      if (this.now() - this.fetchedAt >= this.maxAgeMs && !this.inFlight && this.may(this.retryMs)) {
        void this.refetch(); // stale-while-revalidate: this request keeps using the cached set
      }
      return this.set;
    }
    if (this.inFlight) await this.inFlight;
    else if (this.may(this.retryMs)) await this.refetch();
    if (!this.set) throw new JwksUnavailableError(this.jwksUri, this.lastError);
    return this.set;
  }

  /** True when the last fetch started at least `gapMs` ago and the cache is open. */
  private may(gapMs: number): boolean {
    return !this.closer.signal.aborted && this.now() - this.lastAttemptAt >= gapMs;
  }

  private async lookup(set: LocalJWKSet, header: JWSHeaderParameters): Promise<Key[]> {
    try {
      return [await set(header)];
    } catch (err) {
      if (!(err instanceof errors.JWKSMultipleMatchingKeys)) throw err;
      const keys: Key[] = [];
      for await (const key of err) {
        keys.push(key);
        if (keys.length >= this.maxCandidates) break;
      }
      if (keys.length === 0) throw new errors.JWKSNoMatchingKey();
      return keys;
    }
  }

  private async load(): Promise<void> {
    this.counters.fetches++;
    this.lastAttemptAt = this.now();
    try {
      const answer = await fetchJsonObject(
        this.jwksUri,
        { method: 'GET', headers: { accept: 'application/jwk-set+json, application/json' } },
        { timeoutMs: this.timeoutMs, maxBytes: this.maxBytes, signal: this.closer.signal, fetch: this.fetchFn },
      );
      const jwks = publicSigningKeys(answer, this.maxKeys);
      if (!jwks) throw new UpstreamAuthError('not_jwks', 'answer holds no public signing key');
      const set = createLocalJWKSet(jwks); // throws on a malformed set: keep the old one
      const fingerprints = new Set(jwks.keys.map(fingerprint));
      if ([...this.fingerprints].some((f) => !fingerprints.has(f))) this.counters.generation++;
      this.set = set;
      this.fingerprints = fingerprints;
      this.counters.keys = jwks.keys.length;
      this.fetchedAt = this.now();
      this.lastError = undefined;
    } catch (err) {
      this.counters.failures++;
      this.lastError = err;
    }
  }
}
