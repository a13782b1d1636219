import type { LRUCache } from 'lru-cache';
import type { JwtPeek } from './bearer-authenticator.js';
import { tokenCache } from './cache-bounds.js';

/**
 * Decoded header and payload of tokens that were accepted, by the token's SHA-256: a repeated token skips two
 * base64 decodes, two `JSON.parse` and the canonical-form test before its verified-signature cache lookup. Only
 * accepted tokens enter it, so a flood of invalid ones cannot fill it; what it holds is the unverified decode (a pure
 * function of the token text), so no reload, key change or revocation has to invalidate it.
 */
export type PeekCache = LRUCache<string, JwtPeek>;

export function createPeekCache(max = 10_000, maxBytes = 8 * 1024 * 1024): PeekCache {
  return tokenCache<JwtPeek>({ max, maxBytes, measure: (p) => [p.header, p.payload] });
}
