/** JWT access tokens of a real OpenID Provider (oidc-provider), verified through its real JWKS endpoint. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeProtectedHeader } from 'jose';
import { peekJwt } from '../../src/auth/peek-jwt.js';
import { TrustedIssuerAuthenticator } from '../../src/auth/trusted-issuer-authenticator.js';
import { configSchema } from '../../src/config/schema.js';
import { OAuthError } from '../../src/errors/oauth-error.js';
import { API_RESOURCE, startOidcProvider, type TestOidcProvider } from '../helpers/oidc-provider.js';

let op: TestOidcProvider;

const authenticator = (audience: string = API_RESOURCE, now?: () => number) =>
  new TrustedIssuerAuthenticator(
    configSchema.parse({
      trusted_issuers: [{ issuer: op.issuer, jwks_uri: op.jwksUri, audience, algorithms: ['ES256'] }],
    }).trusted_issuers,
    { now },
  );

beforeAll(async () => {
  op = await startOidcProvider({ jwtTtlSeconds: 300 });
});
afterAll(() => op.close());

describe('trusted issuer against oidc-provider', () => {
  it('accepts its JWT access tokens and maps their scopes', async () => {
    const { access_token } = await op.clientCredentials({ resource: API_RESOURCE, scope: 'menu:read orders:read' });
    expect(decodeProtectedHeader(access_token).typ).toBe('at+jwt');
    const auth = authenticator();
    const identity = await auth.authenticate(access_token, peekJwt(access_token));
    expect(identity).toMatchObject({
      clientId: 'partner',
      scopes: ['menu:read', 'orders:read'],
      method: 'bearer',
      issuer: op.issuer,
    });
    auth.close();
  });

  it('refuses them for another audience', async () => {
    const { access_token } = await op.clientCredentials({ resource: API_RESOURCE });
    const auth = authenticator('restaurant-api');
    await expect(auth.authenticate(access_token, peekJwt(access_token))).rejects.toMatchObject({
      status: 401,
      reason: 'wrong_audience',
    });
    auth.close();
  });

  it('refuses them once expired', async () => {
    const { access_token, expires_in } = await op.clientCredentials({ resource: API_RESOURCE });
    const later = Date.now() + (expires_in + 31) * 1000;
    const auth = authenticator(API_RESOURCE, () => later);
    const err: unknown = await auth.authenticate(access_token, peekJwt(access_token)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OAuthError);
    expect(err).toMatchObject({ status: 401, reason: 'token_expired' });
    auth.close();
  });

  it('leaves its opaque tokens to the next authenticator', async () => {
    const { access_token } = await op.clientCredentials({});
    expect(peekJwt(access_token)).toBeUndefined();
    const auth = authenticator();
    expect(await auth.authenticate(access_token, peekJwt(access_token))).toBeUndefined();
    auth.close();
  });
});
