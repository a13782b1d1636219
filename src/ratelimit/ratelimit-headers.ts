/**
 * 429 answers with the IETF rate-limit fields (draft-ietf-httpapi-ratelimit-headers-09, section 3 and 4):
 * `RateLimit-Policy: "name";q=QUOTA;w=WINDOW_S` and `RateLimit: "name";r=REMAINING;t=RESET_S`, plus `Retry-After`
 * (RFC 9110 10.2.3). The body is the gateway's usual JSON error with `Cache-Control: no-store`.
 */
import { tooManyRequests, type OAuthError } from '../errors/oauth-error.js';
import type { Rate } from '../config/units.js';

/** Seconds to wait, rounded up, at least 1 (a Retry-After of 0 invites an immediate retry storm). */
export function retrySeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

export function rateLimitHeaders(
  policy: string,
  rate: Rate,
  remaining: number,
  resetMs: number,
): Record<string, string> {
  const window = Math.max(1, Math.round(rate.windowMs / 1000));
  return {
    'RateLimit-Policy': `"${policy}";q=${rate.limit};w=${window}`,
    RateLimit: `"${policy}";r=${remaining};t=${retrySeconds(resetMs)}`,
  };
}

/** The 429 for a limit that is used up: retry in `waitMs`. */
export function rateLimited(policy: string, rate: Rate, waitMs: number, reason: string): OAuthError {
  return tooManyRequests(retrySeconds(waitMs), rateLimitHeaders(policy, rate, 0, waitMs), reason);
}
