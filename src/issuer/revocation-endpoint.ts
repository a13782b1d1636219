/**
 * Token revocation (RFC 7009). The client authenticates like at the token endpoint. A refresh token revokes its
 * family; a local access token revokes its `jti` until it expires. Unknown tokens, foreign tokens and tokens of
 * another client are answered 200 all the same (RFC 7009 2.2), so nothing leaks, and are left untouched. A 200 is
 * sent only once the revocation is stored; a store failure rejects (503 temporarily_unavailable, RFC 7009 2.2.1).
 */
import type { IncomingMessage } from 'node:http';
import { peekJwt } from '../auth/peek-jwt.js';
import type { ClientConfig, IssuerConfig } from '../config/schema.js';
import { authenticateClient } from './client-authentication.js';
import { nowOf, type IssuerDeps } from './issuer-deps.js';
import { verifyLocalJwt, type LocalClaims } from './local-jwt.js';
import { readFormBody } from './read-form-body.js';
import { hashRefreshToken } from './refresh-tokens.js';
import { issuerMisconfigured, tokenInvalidRequest } from './token-errors.js';
import type { TokenOutcome } from './token-endpoint.js';

export async function handleRevocationRequest(
  deps: IssuerDeps,
  req: IncomingMessage,
  outcome: TokenOutcome = {},
): Promise<void> {
  const compiled = deps.compiled();
  const issuer = compiled.config.issuer;
  if (!issuer) throw issuerMisconfigured('no_issuer');
  const params = await readFormBody(req);
  const { client } = await authenticateClient(deps, compiled.clients, req, params);
  outcome.clientId = client.id;
  const token = params.get('token');
  if (token === undefined) throw tokenInvalidRequest('token is required', 'missing_token');
  // RFC 7009 2.1: token_type_hint is only a hint; both kinds are searched whatever it says.
  if (await revokeAccessToken(deps, issuer, client, token)) return;
  await revokeRefreshToken(deps, client, token);
}

async function revokeAccessToken(
  deps: IssuerDeps,
  issuer: IssuerConfig,
  client: ClientConfig,
  token: string,
): Promise<boolean> {
  const peek = peekJwt(token);
  if (!peek || peek.payload.iss !== issuer.issuer) return false;
  let claims: LocalClaims;
  try {
    claims = await verifyLocalJwt(token, peek.header.kid, deps.keys, issuer, nowOf(deps));
  } catch {
    return true; // expired, forged or malformed: nothing to revoke
  }
  if (claims.client_id === client.id) {
    // A store failure propagates: the host answers 503 with Retry-After, never 200 for a revocation not stored
    // (RFC 7009 2.2.1).
    await deps.store.revokeToken(claims.jti, claims.exp * 1000);
    deps.clientStates?.forgetToken(claims.jti);
  }
  return true;
}

async function revokeRefreshToken(deps: IssuerDeps, client: ClientConfig, token: string): Promise<void> {
  const record = await deps.store.findRefreshToken(hashRefreshToken(token));
  if (record && record.clientId === client.id) await deps.store.revokeRefreshFamily(record.familyId);
}
