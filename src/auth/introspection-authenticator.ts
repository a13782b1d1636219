/**
 * Opaque bearer tokens, checked by OAuth 2.0 Token Introspection (RFC 7662; SPEC.md 2 `introspection`, 3, 4).
 * Like Oathkeeper's `oauth2_introspection` authenticator it comes last and owns every bearer token that no earlier
 * authenticator took.
 *
 * Fails closed: an endpoint that is down, slow, answers non-2xx, non-JSON or JSON that is not an object gives 503
 * and never a grant; only a JSON object with `"active": true` (the boolean) is an active token, anything else is
 * 401. Answers are cached by the SHA-256 of the token: active ones until the shorter of `cache_ttl` and the token's
 * `exp`, inactive ones briefly; concurrent look-ups of one token share one request.
 */
import { sha256Text } from './sha256.js';
import type { LRUCache } from 'lru-cache';
import type { IntrospectionConfig } from '../config/schema.js';
import { invalidToken, temporarilyUnavailable } from '../errors/oauth-error.js';
import type { BearerAuthenticator, JwtPeek } from './bearer-authenticator.js';
import { tokenCache } from './cache-bounds.js';
import type { Identity } from './identity.js';
import { fetchJsonObject } from './jwks-http.js';
import { readIntrospection, type IntrospectionVerdict } from './introspection-answer.js';

/** RFC 6750 2.1 b64token; anything else is not a bearer token and is never sent to the provider. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
const MAX_TOKEN_LENGTH = 16_384;

export interface IntrospectionOptions {
  /** answers kept (default 50 000) */
  cacheMax?: number;
  /** how long an inactive answer is cached, ms (default min(cache_ttl, 10 s)) */
  inactiveTtlMs?: number;
  /** largest answer read, bytes (default 64 KiB) */
  maxBytes?: number;
  /** when set, an active token's `aud` must name one of these (the config has no such field yet) */
  audience?: string | readonly string[];
  now?: () => number;
  fetch?: typeof fetch;
}

export interface IntrospectionStats {
  /** requests sent to the endpoint */
  requests: number;
  /** requests that ended in 503 (down, timeout, non-2xx, wrong shape) */
  failures: number;
  cacheHits: number;
  cacheMisses: number;
}

interface Cached {
  verdict: IntrospectionVerdict;
  /** ms */
  expiresAt: number;
}

/** RFC 6749 2.3.1 / Appendix B: client id and secret are form-urlencoded before they are joined and base64-encoded. */
const formEncode = (value: string): string => new URLSearchParams([['', value]]).toString().slice(1);

export class IntrospectionAuthenticator implements BearerAuthenticator {
  readonly name = 'introspection';
  private readonly cache: LRUCache<string, Cached>;
  private readonly inFlight = new Map<string, Promise<Cached>>();
  private readonly authorization: string;
  private readonly inactiveTtlMs: number;
  private readonly maxBytes: number;
  private readonly audience: readonly string[] | undefined;
  private readonly now: () => number;
  private readonly fetchFn: typeof fetch | undefined;
  private readonly closer = new AbortController();
  private readonly counters: IntrospectionStats = { requests: 0, failures: 0, cacheHits: 0, cacheMisses: 0 };

  constructor(
    private readonly config: IntrospectionConfig,
    options: IntrospectionOptions = {},
  ) {
    const credentials = `${formEncode(config.client_id)}:${formEncode(config.client_secret)}`;
    this.authorization = `Basic ${Buffer.from(credentials, 'utf8').toString('base64')}`;
    this.inactiveTtlMs = options.inactiveTtlMs ?? Math.min(config.cache_ttl, 10_000);
    this.maxBytes = options.maxBytes ?? 64 * 1024;
    this.audience = typeof options.audience === 'string' ? [options.audience] : options.audience;
    this.now = options.now ?? Date.now;
    this.fetchFn = options.fetch;
    this.cache = tokenCache<Cached>({ max: options.cacheMax ?? 50_000, measure: (v) => v.verdict });
  }

  async authenticate(token: string, _peek: JwtPeek | undefined): Promise<Identity> {
    if (token.length > MAX_TOKEN_LENGTH || !B64TOKEN.test(token)) {
      throw invalidToken('the token is malformed', 'malformed_token');
    }
    const key = sha256Text(token, 'base64url');
    const cached = this.cache.get(key);
    let entry: Cached;
    if (cached && cached.expiresAt > this.now()) {
      this.counters.cacheHits++;
      entry = cached;
    } else {
      this.counters.cacheMisses++;
      entry = await this.lookup(key, token);
    }
    if (entry.verdict.active) return entry.verdict.identity;
    throw invalidToken(entry.verdict.description, entry.verdict.reason);
  }

  stats(): IntrospectionStats {
    return { ...this.counters };
  }

  /** Aborts requests in flight and empties the cache. */
  close(): void {
    this.closer.abort();
    this.cache.clear();
  }

  private lookup(key: string, token: string): Promise<Cached> {
    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = this.introspect(key, token).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    return pending;
  }

  private async introspect(key: string, token: string): Promise<Cached> {
    this.counters.requests++;
    let answer: Record<string, unknown>;
    try {
      // RFC 7662 2.1: form-encoded POST, the caller authenticated as a client.
      answer = await fetchJsonObject(
        this.config.endpoint,
        {
          method: 'POST',
          headers: {
            authorization: this.authorization,
            'content-type': 'application/x-www-form-urlencoded',
            accept: 'application/json',
          },
          body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
        },
        { timeoutMs: this.config.timeout, maxBytes: this.maxBytes, signal: this.closer.signal, fetch: this.fetchFn },
      );
    } catch {
      // The reason (timeout, status, shape) is an operator matter; it never reaches the caller.
      this.counters.failures++;
      throw temporarilyUnavailable('the token cannot be checked right now', 'introspection_unavailable');
    }

    const now = this.now();
    const verdict = readIntrospection(answer, now, this.audience);
    if (verdict === 'malformed') {
      this.counters.failures++;
      throw temporarilyUnavailable('the token cannot be checked right now', 'introspection_unavailable');
    }
    const ttl = verdict.active
      ? Math.min(this.config.cache_ttl, (verdict.identity.expiresAt ?? Number.POSITIVE_INFINITY) - now)
      : this.inactiveTtlMs;
    const entry = { verdict, expiresAt: now + ttl };
    if (ttl > 0) this.cache.set(key, entry, { ttl });
    return entry;
  }
}
