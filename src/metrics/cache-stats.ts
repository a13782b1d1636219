import { IntrospectionAuthenticator } from '../auth/introspection-authenticator.js';
import { TrustedIssuerAuthenticator } from '../auth/trusted-issuer-authenticator.js';
import type { MetricsSource } from './metrics-source.js';

export interface HitsMisses {
  hits: number;
  misses: number;
}

/** The caches whose counters can be read: verified trusted-issuer tokens, their JWKS keys, introspection answers. */
export type CacheName = 'trusted_issuer_tokens' | 'jwks_keys' | 'introspection';
export type CacheStats = Record<CacheName, HitsMisses>;

export const emptyCacheStats = (): CacheStats => ({
  trusted_issuer_tokens: { hits: 0, misses: 0 },
  jwks_keys: { hits: 0, misses: 0 },
  introspection: { hits: 0, misses: 0 },
});

/** Reads the cache counters of one runtime's authenticators and adds them to `into`. */
export function addCacheStats(runtime: MetricsSource, into: CacheStats): CacheStats {
  for (const authenticator of runtime.auth.bearer) {
    if (authenticator instanceof TrustedIssuerAuthenticator) {
      const s = authenticator.stats();
      into.trusted_issuer_tokens.hits += s.cacheHits;
      into.trusted_issuer_tokens.misses += s.cacheMisses;
      for (const jwks of Object.values(s.issuers)) {
        into.jwks_keys.hits += jwks.hits;
        into.jwks_keys.misses += jwks.misses;
      }
    } else if (authenticator instanceof IntrospectionAuthenticator) {
      const s = authenticator.stats();
      into.introspection.hits += s.cacheHits;
      into.introspection.misses += s.cacheMisses;
    }
  }
  return into;
}
