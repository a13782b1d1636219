/**
 * The token endpoint (RFC 6749 4.4 client credentials, 6 refresh) as a list of named steps, each throwing an
 * OAuthError: parse body -> authenticate client -> check grant -> check scope and tenant -> issue.
 */
import type { IncomingMessage } from 'node:http';
import { issuedBeforeRevocation } from '../auth/client-check.js';
import type { ClientConfig, IssuerConfig } from '../config/schema.js';
import type { RefreshRecord } from '../store/store.js';
import { authenticateClient } from './client-authentication.js';
import { nowOf, type IssuerDeps } from './issuer-deps.js';
import { ClientExpiredError, mintAccessToken, noTokenLifetimeLeft } from './mint-access-token.js';
import { readFormBody, type FormParams } from './read-form-body.js';
import { hashRefreshToken, issueRefreshToken, newRefreshToken } from './refresh-tokens.js';
import { resolveGrant, type GrantBase, type GrantedScope } from './scope-request.js';
import {
  invalidClient,
  invalidGrant,
  issuerMisconfigured,
  tokenInvalidRequest,
  unauthorizedClient,
  unsupportedGrantType,
} from './token-errors.js';

/** RFC 6749 5.1 */
export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope: string;
  refresh_token?: string;
}

type Grant = { type: 'client_credentials' } | { type: 'refresh_token'; record: RefreshRecord };

/** Facts a finished request leaves for the host's access log. */
export interface TokenOutcome {
  clientId?: string;
  /** why the request was refused (the OAuthError's reason, e.g. `bad_client_credentials`) */
  reason?: string;
}

export async function handleTokenRequest(
  deps: IssuerDeps,
  req: IncomingMessage,
  outcome: TokenOutcome = {},
): Promise<TokenResponse> {
  const compiled = deps.compiled();
  const issuer = compiled.config.issuer;
  if (!issuer) throw issuerMisconfigured('no_issuer');
  const params = await parseBody(req);
  const { client, method } = await authenticateClient(deps, compiled.clients, req, params);
  outcome.clientId = client.id;
  const challenge = method === 'client_secret_basic' ? 'basic' : 'none';
  // Checked before the grant, so a refresh token is not used up for a token that cannot be minted.
  if (noTokenLifetimeLeft(client, nowOf(deps))) throw invalidClient(challenge, 'client_expired');
  const grant = await checkGrant(deps, client, params);
  const granted = checkScopeAndTenant(client, grant, params, issuer);
  try {
    return await issue(deps, issuer, client, grant, granted);
  } catch (err) {
    // the second boundary passed while the store was asked: still the client's expiry, never a 500
    if (err instanceof ClientExpiredError) throw invalidClient(challenge, 'client_expired');
    throw err;
  }
}

/** Step 1: the body, form-encoded, each parameter once, at most 64 KiB. */
function parseBody(req: IncomingMessage): Promise<FormParams> {
  return readFormBody(req);
}

/** Step 3: a grant type this client may use; for refresh_token, a live token of this client. */
async function checkGrant(deps: IssuerDeps, client: ClientConfig, params: FormParams): Promise<Grant> {
  const grantType = params.get('grant_type');
  if (grantType === undefined) throw tokenInvalidRequest('grant_type is required', 'missing_grant_type');
  if (grantType === 'client_credentials') return { type: 'client_credentials' };
  if (grantType !== 'refresh_token') throw unsupportedGrantType();
  if (!client.refresh_tokens) throw unauthorizedClient('this client may not use refresh tokens');
  const token = params.get('refresh_token');
  if (token === undefined) throw tokenInvalidRequest('refresh_token is required', 'missing_refresh_token');
  const record = await deps.store.findRefreshToken(hashRefreshToken(token));
  // Another client's token is answered like an unknown one and left untouched (RFC 6749 6: "bound to the client").
  if (!record || record.clientId !== client.id) throw invalidGrant(undefined, 'unknown_refresh_token');
  if (record.revoked) throw invalidGrant(undefined, 'refresh_token_revoked');
  if (record.usedAt !== undefined) {
    await deps.store.revokeRefreshFamily(record.familyId);
    throw invalidGrant(undefined, 'refresh_token_replayed');
  }
  const now = nowOf(deps);
  if (now >= record.expiresAt) throw invalidGrant(undefined, 'refresh_token_expired');
  if (issuedBeforeRevocation(await deps.store.getClientState(client.id), record.issuedAt)) {
    throw invalidGrant(undefined, 'refresh_token_revoked');
  }
  return { type: 'refresh_token', record };
}

/** Step 4: the requested scope and tenant, within what the client (or the refresh token) holds. */
function checkScopeAndTenant(
  client: ClientConfig,
  grant: Grant,
  params: FormParams,
  issuer: IssuerConfig,
): GrantedScope {
  let base: GrantBase;
  if (grant.type === 'client_credentials') {
    base = { scopes: client.scopes, tenants: client.tenants };
  } else {
    const { record } = grant;
    // Scopes taken from the client in the config since the token was issued are gone from the refreshed token.
    const current = new Set(client.scopes);
    if (record.tenant !== undefined && !(client.tenants ?? []).includes(record.tenant)) {
      throw invalidGrant('the refresh token is bound to a tenant this client may no longer act for', 'tenant_removed');
    }
    base = {
      scopes: record.scopes.filter((s) => current.has(s)),
      tenant: record.tenant,
      tenants: record.tenant !== undefined ? [record.tenant] : client.tenants,
    };
  }
  return resolveGrant(base, params.get('scope'), params.get(issuer.tenant_parameter), issuer.tenant_parameter);
}

/** Step 5: sign the access token; with refresh tokens, a new one (rotation: the presented one is used up). */
async function issue(
  deps: IssuerDeps,
  issuer: IssuerConfig,
  client: ClientConfig,
  grant: Grant,
  granted: GrantedScope,
): Promise<TokenResponse> {
  const now = nowOf(deps);
  let refreshToken: string | undefined;
  if (grant.type === 'refresh_token') {
    const { record } = grant;
    // The family keeps its absolute lifetime (so a `scopegate refresh-token --ttl 7d` token stays limited), and
    // the new token keeps the scope and tenant of the old one (RFC 6749 6), whatever this request narrowed.
    const successor = newRefreshToken({
      clientId: client.id,
      scopes: record.scopes,
      tenant: record.tenant,
      issuedAt: now,
      expiresAt: Math.min(record.expiresAt, refreshExpiry(issuer, client, now)),
      familyId: record.familyId,
    });
    // One atomic step across instances: mark the presented token used and store its successor; of two concurrent
    // uses only one wins, and the loser (a replay) has revoked the whole family.
    if (!(await deps.store.rotateRefreshToken(record.hash, now, successor.record))) {
      throw invalidGrant(undefined, 'refresh_token_replayed');
    }
    refreshToken = successor.token;
  }
  const minted = await mintAccessToken(deps, { clientId: client.id, scopes: granted.scopes, tenant: granted.tenant });
  if (grant.type === 'client_credentials' && client.refresh_tokens) {
    refreshToken = await issueRefreshToken(deps.store, {
      clientId: client.id,
      scopes: granted.scopes,
      tenant: granted.tenant,
      issuedAt: now,
      expiresAt: refreshExpiry(issuer, client, now),
    });
  }
  const response: TokenResponse = {
    access_token: minted.accessToken,
    token_type: 'Bearer',
    expires_in: minted.expiresIn,
    scope: granted.scopes.join(' '),
  };
  if (refreshToken !== undefined) response.refresh_token = refreshToken;
  return response;
}

/** `refresh_token_ttl` from now, never past the client's `expires_at`. */
export function refreshExpiry(issuer: IssuerConfig, client: ClientConfig, now: number): number {
  const ttl = now + issuer.refresh_token_ttl;
  return client.expires_at !== undefined ? Math.min(ttl, client.expires_at) : ttl;
}
