import { invalidRequest } from '../errors/oauth-error.js';
import type { Credential } from './identity.js';

/** RFC 6750 2.1: `b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="` */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
/** RFC 9110 5.6.2 token: an auth scheme */
const SCHEME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;
/** visible ASCII: API keys, client ids and secrets */
const VISIBLE = /^[\x21-\x7E]+$/;
const MAX_CREDENTIAL_LENGTH = 8192;

/** Credential headers with a `-` in their name: the ones an `_` spelling can stand for. */
const DASHED_CREDENTIALS = new Set(['x-api-key', 'x-client-id', 'x-client-secret']);

interface Found {
  authorization: string[];
  apiKey: string[];
  clientId: string[];
  clientSecret: string[];
}

/**
 * Reads the one credential of a request from its raw header list. Node keeps only the first of two Authorization
 * headers and joins repeated custom headers with a comma, so duplicates are only visible in `rawHeaders`
 * (THREATS.md "Headers"). Anything ambiguous is 400 invalid_request: two methods, two headers of one kind, an empty
 * or malformed value, or an `access_token` in the query (RFC 6750 2.3 is not supported: URLs end up in logs).
 */
export function extractCredential(rawHeaders: readonly string[], queryHasAccessToken: boolean): Credential {
  const found: Found = { authorization: [], apiKey: [], clientId: [], clientSecret: [] };
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    // cheap first-character filter: this runs for every header of every request
    const c = name.charCodeAt(0) | 0x20;
    if (c !== 0x61 && c !== 0x78) continue; // 'a' or 'x'
    const lower = name.toLowerCase();
    if (lower === 'authorization') found.authorization.push(rawHeaders[i + 1]!);
    else if (lower === 'x-api-key') found.apiKey.push(rawHeaders[i + 1]!);
    else if (lower === 'x-client-id') found.clientId.push(rawHeaders[i + 1]!);
    else if (lower === 'x-client-secret') found.clientSecret.push(rawHeaders[i + 1]!);
    else if (lower.includes('_') && DASHED_CREDENTIALS.has(lower.replaceAll('_', '-'))) {
      // WSGI/CGI upstreams read `X_Client_Id` as `X-Client-Id`: a credential the gateway did not check (SPEC.md 6)
      throw invalidRequest(`${name}: credential headers are spelled with "-", not "_"`, 'credential_header_spelling');
    }
  }
  if (queryHasAccessToken) throw invalidRequest('access tokens are not accepted in the query string', 'token_in_query');

  const credentials: Credential[] = [];
  if (found.authorization.length > 1) throw invalidRequest('more than one Authorization header', 'duplicate_header');
  if (found.authorization.length === 1) {
    const bearer = parseAuthorization(found.authorization[0]!);
    if (bearer !== undefined) credentials.push({ kind: 'bearer', token: bearer });
  }
  if (found.apiKey.length > 0) credentials.push({ kind: 'api_key', key: single(found.apiKey, 'X-Api-Key') });
  if (found.clientId.length > 0 || found.clientSecret.length > 0) {
    if (found.clientId.length === 0 || found.clientSecret.length === 0) {
      throw invalidRequest('X-Client-Id and X-Client-Secret go together', 'incomplete_client_credentials');
    }
    credentials.push({
      kind: 'client_secret',
      clientId: single(found.clientId, 'X-Client-Id'),
      secret: single(found.clientSecret, 'X-Client-Secret'),
    });
  }
  if (credentials.length > 1)
    throw invalidRequest('use exactly one credential method per request', 'multiple_credentials');
  return credentials[0] ?? { kind: 'none' };
}

function single(values: string[], header: string): string {
  if (values.length > 1) throw invalidRequest(`more than one ${header} header`, 'duplicate_header');
  const value = values[0]!.trim();
  if (value === '' || value.length > MAX_CREDENTIAL_LENGTH || !VISIBLE.test(value)) {
    throw invalidRequest(`malformed ${header} header`, 'malformed_credential');
  }
  return value;
}

/** The bearer token of an Authorization value; undefined for another scheme (which counts as no credential). */
function parseAuthorization(value: string): string | undefined {
  const trimmed = value.trim();
  if (trimmed === '') throw invalidRequest('empty Authorization header', 'malformed_credential');
  const space = trimmed.indexOf(' ');
  const scheme = space < 0 ? trimmed : trimmed.slice(0, space);
  if (!SCHEME.test(scheme)) throw invalidRequest('malformed Authorization header', 'malformed_credential');
  if (scheme.toLowerCase() !== 'bearer') return undefined;
  const token = space < 0 ? '' : trimmed.slice(space + 1).replace(/^ +/, '');
  if (token === '') throw invalidRequest('empty Bearer token', 'malformed_credential');
  if (token.length > MAX_CREDENTIAL_LENGTH || !B64TOKEN.test(token)) {
    throw invalidRequest('malformed Bearer token', 'malformed_credential');
  }
  return token;
}
