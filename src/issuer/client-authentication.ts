/**
 * Client authentication at the token and revocation endpoints (RFC 6749 2.3.1): HTTP Basic with the id and secret
 * each form-urlencoded before base64, or `client_id` + `client_secret` in the body; never both (RFC 6749 2.3:
 * "The client MUST NOT use more than one authentication method in each request").
 */
import type { IncomingMessage } from 'node:http';
import { clientInactiveReason } from '../auth/client-check.js';
import type { ClientConfig } from '../config/schema.js';
import { OAuthError } from '../errors/oauth-error.js';
import { clientAddress } from '../proxy/client-address.js';
import { nowOf, type IssuerDeps } from './issuer-deps.js';
import type { FormParams } from './read-form-body.js';
import { invalidClient, tokenInvalidRequest } from './token-errors.js';

export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post';

export interface ClientCredentials {
  method: ClientAuthMethod;
  clientId: string;
  secret: string;
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** RFC 6749 Appendix B: `+` is a space, then %XX; undefined for malformed percent-encoding. */
export function formUrlDecode(text: string): string | undefined {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

/** The `Authorization` header values as sent: Node keeps only the first of two, so count them in rawHeaders. */
function authorizationHeaders(req: IncomingMessage): string[] {
  const values: string[] = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    if (req.rawHeaders[i]!.toLowerCase() === 'authorization') values.push(req.rawHeaders[i + 1]!);
  }
  return values;
}

/** Decodes `Basic <base64(urlencode(id):urlencode(secret))>`; a malformed value fails as invalid_client + Basic. */
export function parseBasic(value: string): { clientId: string; secret: string } {
  const m = /^basic +(\S+) *$/i.exec(value);
  if (!m || !BASE64.test(m[1]!)) throw invalidClient('basic', 'malformed_basic');
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw invalidClient('basic', 'malformed_basic');
  const clientId = formUrlDecode(decoded.slice(0, colon));
  const secret = formUrlDecode(decoded.slice(colon + 1));
  if (!clientId || secret === undefined) throw invalidClient('basic', 'malformed_basic');
  return { clientId, secret };
}

/** Which credentials the request carries; throws when there are none, two methods, or a malformed header. */
export function extractClientCredentials(req: IncomingMessage, params: FormParams): ClientCredentials {
  const headers = authorizationHeaders(req);
  if (headers.length > 1) throw tokenInvalidRequest('more than one Authorization header', 'duplicate_authorization');
  const bodyId = params.get('client_id');
  const bodySecret = params.get('client_secret');
  const header = headers[0];
  if (header !== undefined) {
    if (!/^basic(\s|$)/i.test(header.trimStart())) {
      throw tokenInvalidRequest(
        'client authentication must use HTTP Basic or client_secret_post',
        'unsupported_auth_scheme',
      );
    }
    if (bodySecret !== undefined) {
      throw tokenInvalidRequest(
        'use one client authentication method: HTTP Basic or the body, not both',
        'two_auth_methods',
      );
    }
    const basic = parseBasic(header.trim());
    // A client_id in the body next to Basic is tolerated (RFC 6749 does not forbid it) but must name the same client.
    if (bodyId !== undefined && bodyId !== basic.clientId) {
      throw tokenInvalidRequest('client_id does not match the authenticated client', 'client_id_mismatch');
    }
    return { method: 'client_secret_basic', ...basic };
  }
  if (bodySecret !== undefined && bodyId === undefined) {
    throw tokenInvalidRequest('client_secret was sent without client_id', 'missing_client_id');
  }
  if (bodyId !== undefined && bodySecret !== undefined) {
    return { method: 'client_secret_post', clientId: bodyId, secret: bodySecret };
  }
  // No credentials at all, or a client_id without a secret (public clients are not supported): tell the client
  // which scheme to use (RFC 6749 5.2 "MAY return an HTTP 401 ... to indicate which HTTP authentication schemes").
  if (bodyId !== undefined) throw invalidClient('none', 'no_client_secret');
  throw invalidClient('basic', 'no_client_credentials');
}

/**
 * Authenticates the client of a token or revocation request. An unknown client, a wrong secret, a revoked and an
 * expired client all get the same invalid_client; only failed secret checks are reported to `onFailedClientAuth`.
 */
export async function authenticateClient(
  deps: IssuerDeps,
  clients: ReadonlyMap<string, ClientConfig>,
  req: IncomingMessage,
  params: FormParams,
): Promise<{ client: ClientConfig; method: ClientAuthMethod }> {
  // behind server.trusted_proxies, the forwarded client: one load balancer address is not one client
  const remote = clientAddress(req.socket?.remoteAddress, req.rawHeaders, deps.compiled().trustedProxies).address;
  let credentials: ClientCredentials;
  try {
    credentials = extractClientCredentials(req, params);
  } catch (err) {
    if (err instanceof OAuthError && err.code === 'invalid_client')
      deps.onFailedClientAuth?.(params.get('client_id'), remote);
    throw err;
  }
  const { method, clientId, secret } = credentials;
  const challenge = method === 'client_secret_basic' ? 'basic' : 'none';
  const client = await deps.clientSecrets.verify(clients.get(clientId), clientId, secret, nowOf(deps));
  if (!client) {
    deps.onFailedClientAuth?.(clientId, remote);
    throw invalidClient(challenge, 'bad_client_credentials');
  }
  const reason = clientInactiveReason(client, await deps.store.getClientState(client.id), nowOf(deps));
  if (reason) throw invalidClient(challenge, reason);
  return { client, method };
}
