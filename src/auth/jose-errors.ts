import { errors } from 'jose';
import { invalidToken, OAuthError } from '../errors/oauth-error.js';

/**
 * jose's error classes -> 401 invalid_token with a stable reason for logs and metrics: the one place that maps
 * them, for local and trusted-issuer tokens alike. Anything unexpected is still a 401, never a grant.
 */
export function joseErrorToOAuth(err: unknown): OAuthError {
  if (err instanceof OAuthError) return err;
  if (err instanceof errors.JWTExpired) return invalidToken('the token has expired', 'token_expired');
  if (err instanceof errors.JWTClaimValidationFailed) {
    switch (err.claim) {
      case 'aud':
        return invalidToken('the token is not meant for this API', 'wrong_audience');
      case 'iss':
        return invalidToken('the token issuer is not accepted', 'wrong_issuer');
      case 'typ':
        return invalidToken('not an access token (typ must be at+jwt)', 'wrong_type');
      case 'nbf':
        return invalidToken('the token is not valid yet', 'token_not_yet_valid');
      default:
        return invalidToken(`the token claim "${err.claim}" is invalid`, 'invalid_claims');
    }
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) {
    return invalidToken('the token signature is invalid', 'bad_signature');
  }
  if (err instanceof errors.JWKSNoMatchingKey)
    return invalidToken('no key of the issuer matches the token', 'unknown_kid');
  if (err instanceof errors.JOSEAlgNotAllowed) {
    return invalidToken('the token algorithm is not allowed', 'algorithm_not_allowed');
  }
  if (err instanceof errors.JOSENotSupported) {
    return invalidToken('the token uses an unsupported feature', 'unsupported_token');
  }
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid) {
    return invalidToken('the token is malformed', 'malformed_token');
  }
  return invalidToken('the token cannot be verified', 'invalid_token');
}
