/**
 * Access tokens of the local issuer: JWTs per RFC 9068 (`typ: at+jwt`; `iss`, `sub`, `aud`, `exp`, `iat`, `jti`,
 * `client_id`, `scope`, and `tenant` when bound), signed with the newest key. Used by the token endpoint and by
 * `scopegate token`.
 */
import { setTimeout } from 'node:timers/promises';
import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import { nowOf, type IssuerDeps } from './issuer-deps.js';

export interface MintRequest {
  clientId: string;
  scopes: readonly string[];
  tenant?: string;
}

export interface MintedAccessToken {
  accessToken: string;
  /** whole seconds until `exp` */
  expiresIn: number;
  jti: string;
  /** `exp` in ms since the epoch */
  expiresAt: number;
}

export class MintError extends Error {
  override name = 'MintError';
}

/** The client's `expires_at` leaves no whole second for a token: it is (about to be) expired. */
export class ClientExpiredError extends MintError {
  override name = 'ClientExpiredError';
}

/**
 * True when a token minted at `now` could not live one whole second: `exp` has second precision and is cut at the
 * client's `expires_at`, so within the last second before an `expires_at` with milliseconds the client has no token
 * left to get, though its credentials still work for a few hundred ms.
 */
export function noTokenLifetimeLeft(client: { expires_at?: number }, now: number): boolean {
  return client.expires_at !== undefined && Math.floor(client.expires_at / 1000) <= Math.floor(now / 1000);
}

/**
 * Signs an access token for `clientId`. Its lifetime is `issuer.access_token_ttl`, cut short at the client's
 * `expires_at`. `iat` has second precision (RFC 7519 NumericDate) and the verifier treats `iat * 1000 <= notBefore`
 * as issued before the client's last revocation; so a token asked for in the second of that revocation (right after
 * a restore) waits for the next second (at most 1 s). Dating it ahead instead would let it outlive another
 * revocation later in that same second.
 */
export async function mintAccessToken(
  deps: Pick<IssuerDeps, 'compiled' | 'keys' | 'store' | 'now'>,
  request: MintRequest,
): Promise<MintedAccessToken> {
  const compiled = deps.compiled();
  const issuer = compiled.config.issuer;
  if (!issuer) throw new MintError('the config has no issuer section');
  const client = compiled.clients.get(request.clientId);
  if (!client) throw new MintError(`unknown client "${request.clientId}"`);
  let now = nowOf(deps);
  const state = await deps.store.getClientState(client.id);
  if (state.notBefore !== undefined && Math.floor(now / 1000) * 1000 <= state.notBefore) {
    const nextSecond = (Math.floor(state.notBefore / 1000) + 1) * 1000;
    await setTimeout(Math.min(1000, Math.max(0, nextSecond - now)));
    now = Math.max(nowOf(deps), nextSecond);
  }
  const iat = Math.floor(now / 1000);
  let exp = iat + Math.floor(issuer.access_token_ttl / 1000);
  if (client.expires_at !== undefined) exp = Math.min(exp, Math.floor(client.expires_at / 1000));
  if (exp <= Math.floor(now / 1000)) throw new ClientExpiredError(`client "${client.id}" has expired`);
  const jti = randomBytes(16).toString('base64url');
  const { signing } = deps.keys;
  const accessToken = await new SignJWT({
    client_id: client.id,
    scope: request.scopes.join(' '),
    ...(request.tenant !== undefined ? { tenant: request.tenant } : {}),
  })
    .setProtectedHeader({ alg: signing.alg, kid: signing.kid, typ: 'at+jwt' })
    .setIssuer(issuer.issuer)
    .setSubject(client.id)
    .setAudience(issuer.audience)
    .setIssuedAt(iat)
    .setExpirationTime(exp)
    .setJti(jti)
    .sign(signing.privateKey);
  return { accessToken, expiresIn: exp - Math.floor(now / 1000), jti, expiresAt: exp * 1000 };
}
