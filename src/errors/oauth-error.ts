/**
 * One class per error the gateway answers with. Each carries its HTTP status, its OAuth `error` code and how it
 * challenges (RFC 6750 3, RFC 6749 5.2); `render-error.ts` is the one place that turns them into a response.
 */
export type Challenge = 'none' | 'bearer' | 'bearer-bare' | 'basic';

export interface OAuthErrorOptions {
  /** the error attribute of the Bearer challenge when it differs from the body's `error` */
  challengeError?: string;
  /** scopes named in an insufficient_scope challenge */
  scope?: readonly string[];
  /** machine-readable reason for logs and metrics, e.g. `token_expired` */
  reason?: string;
  headers?: Record<string, string>;
}

export class OAuthError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly description: string,
    readonly challenge: Challenge,
    readonly options: OAuthErrorOptions = {},
  ) {
    super(description);
    this.name = 'OAuthError';
  }

  get reason(): string {
    return this.options.reason ?? this.code;
  }
}

/** 400: malformed request (RFC 6750 3.1 invalid_request). */
export const invalidRequest = (description: string, reason = 'invalid_request') =>
  new OAuthError(400, 'invalid_request', description, 'bearer', { reason });

/** 401 without an error attribute: no credentials at all (RFC 6750 3.1: "SHOULD NOT include an error code"). */
export const missingCredentials = (description = 'credentials are required') =>
  new OAuthError(401, 'invalid_token', description, 'bearer-bare', { reason: 'no_credentials' });

/** 401: bad, expired, revoked, wrong-audience or unknown token or API key. */
export const invalidToken = (description: string, reason = 'invalid_token') =>
  new OAuthError(401, 'invalid_token', description, 'bearer', { reason });

/** 401: wrong client id or secret on a resource request; body says invalid_client, the challenge invalid_token. */
export const invalidClientCredentials = (description = 'client authentication failed', reason = 'invalid_client') =>
  new OAuthError(401, 'invalid_client', description, 'bearer', { challengeError: 'invalid_token', reason });

/** 403: the caller lacks a scope (or acts for another tenant). */
export const insufficientScope = (
  description: string,
  scope: readonly string[] | undefined,
  reason = 'insufficient_scope',
) => new OAuthError(403, 'insufficient_scope', description, 'bearer', { scope, reason });

/** 414 (RFC 9110 15.5.15): a path longer than the gateway matches; no challenge, like 413. */
export const uriTooLong = (description: string) =>
  new OAuthError(414, 'invalid_request', description, 'none', { reason: 'uri_too_long' });

/** 431 (RFC 6585 5): more header fields than the gateway forwards without an upstream dropping its own. */
export const tooManyHeaderFields = (limit: number) =>
  new OAuthError(431, 'invalid_request', `more than ${limit} header fields`, 'none', { reason: 'too_many_headers' });

/** 505 (RFC 9110 15.6.6): only HTTP/1.0 and HTTP/1.1 request lines are served. */
export const httpVersionNotSupported = (version: string) =>
  new OAuthError(505, 'invalid_request', `HTTP/${version} is not supported; use HTTP/1.1`, 'none', {
    reason: 'http_version',
  });

export const notFound = () =>
  new OAuthError(404, 'not_found', 'no route matches this path', 'none', { reason: 'no_route' });

export const methodNotAllowed = (allow: readonly string[]) =>
  new OAuthError(405, 'method_not_allowed', 'this method is not allowed on this route', 'none', {
    reason: 'method_not_allowed',
    headers: { Allow: allow.join(', ') },
  });

export const payloadTooLarge = (limit: number) =>
  new OAuthError(413, 'invalid_request', `request body is larger than ${limit} bytes`, 'none', {
    reason: 'body_too_large',
  });

export const tooManyRequests = (retryAfterSeconds: number, headers: Record<string, string>, reason = 'rate_limited') =>
  new OAuthError(429, 'rate_limited', 'too many requests', 'none', {
    reason,
    headers: { 'Retry-After': String(retryAfterSeconds), ...headers },
  });

export const badGateway = (reason = 'upstream_unreachable') =>
  new OAuthError(502, 'bad_gateway', 'the upstream could not be reached', 'none', { reason });

export const gatewayTimeout = () =>
  new OAuthError(504, 'gateway_timeout', 'the upstream did not answer in time', 'none', { reason: 'upstream_timeout' });

export const temporarilyUnavailable = (description: string, reason = 'unavailable') =>
  new OAuthError(503, 'temporarily_unavailable', description, 'none', { reason });

/**
 * 503 with `Retry-After`: the store could not record or check something (locked, full, read-only, unreachable).
 * A revocation, rotation or admin change is never acknowledged unstored (RFC 7009 2.2.1: 503 and Retry-After).
 * The cause stays in the process log; the store layer is mapped to this by the callers (errors/ knows no store).
 */
export const storeUnavailable = (
  description = 'the gateway cannot record or check state right now; try again',
  retryAfterSeconds = 1,
  reason = 'store_unavailable',
) =>
  new OAuthError(503, 'temporarily_unavailable', description, 'none', {
    reason,
    headers: { 'Retry-After': String(retryAfterSeconds) },
  });
