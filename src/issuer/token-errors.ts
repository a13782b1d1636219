/**
 * The token endpoint's errors (RFC 6749 5.2). Unlike resource errors they carry no Bearer challenge; a failed
 * HTTP Basic authentication answers with a Basic challenge (RFC 6749 5.2, invalid_client).
 */
import { OAuthError } from '../errors/oauth-error.js';

/** 400: a missing, repeated or malformed parameter, or two client authentication methods at once. */
export const tokenInvalidRequest = (description: string, reason = 'invalid_request') =>
  new OAuthError(400, 'invalid_request', description, 'none', { reason });

/**
 * 401: client authentication failed. The description is the same for an unknown client, a wrong secret, a revoked
 * and an expired client, so none can be told apart; `reason` is only for logs. `basic` adds
 * `WWW-Authenticate: Basic realm=...` (required when the client used the Authorization header).
 */
export const invalidClient = (challenge: 'basic' | 'none', reason = 'invalid_client') =>
  new OAuthError(401, 'invalid_client', 'client authentication failed', challenge, { reason });

/** 400: the refresh token is unknown, expired, revoked, used before or belongs to another client. */
export const invalidGrant = (
  description = 'the refresh token is invalid, expired or revoked',
  reason = 'invalid_grant',
) => new OAuthError(400, 'invalid_grant', description, 'none', { reason });

/** 400: the client may not use this grant type. */
export const unauthorizedClient = (description: string) =>
  new OAuthError(400, 'unauthorized_client', description, 'none', { reason: 'unauthorized_client' });

export const unsupportedGrantType = () =>
  new OAuthError(400, 'unsupported_grant_type', 'grant_type must be client_credentials or refresh_token', 'none', {
    reason: 'unsupported_grant_type',
  });

/** 400: a scope or tenant outside what the client (or the refresh token) was granted, or a malformed scope. */
export const invalidScope = (description: string, reason = 'invalid_scope') =>
  new OAuthError(400, 'invalid_scope', description, 'none', { reason });

/** 500 without details: something in the gateway is misconfigured (the description never leaves the process). */
export const issuerMisconfigured = (reason: string) =>
  new OAuthError(500, 'server_error', 'the token endpoint could not process the request', 'none', { reason });
