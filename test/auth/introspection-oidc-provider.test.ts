/** Opaque access tokens of a real OpenID Provider (oidc-provider), checked through its RFC 7662 endpoint. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IntrospectionAuthenticator } from '../../src/auth/introspection-authenticator.js';
import { configSchema, type IntrospectionConfig } from '../../src/config/schema.js';
import { startOidcProvider, type TestOidcProvider } from '../helpers/oidc-provider.js';

let op: TestOidcProvider;

const config = (provider: TestOidcProvider, cache_ttl = '60s'): IntrospectionConfig =>
  configSchema.parse({
    introspection: {
      endpoint: provider.introspectionEndpoint,
      client_id: provider.gateway.id,
      client_secret: provider.gateway.secret,
      cache_ttl,
      timeout: '5s',
    },
  }).introspection!;

beforeAll(async () => {
  op = await startOidcProvider({ opaqueTtlSeconds: 300 });
});
afterAll(() => op.close());

describe('introspection against oidc-provider', () => {
  it('accepts its opaque tokens, with client and scopes', async () => {
    const { access_token } = await op.clientCredentials({ scope: 'menu:read orders:write' });
    const auth = new IntrospectionAuthenticator(config(op));
    expect(await auth.authenticate(access_token, undefined)).toMatchObject({
      clientId: 'partner',
      scopes: ['menu:read', 'orders:write'],
      method: 'bearer',
      // an introspected identity is never the local issuer's, whatever `iss` the answer names (SPEC.md 6)
      issuer: 'introspection',
    });
    auth.close();
  });

  it('refuses a token the provider revoked once the cached answer is older than cache_ttl', async () => {
    let t = Date.now();
    const { access_token } = await op.clientCredentials({});
    const auth = new IntrospectionAuthenticator(config(op, '2s'), { now: () => t });
    expect(await auth.authenticate(access_token, undefined)).toBeDefined();
    await op.revoke(access_token);
    // inside cache_ttl the cached answer still stands (the documented price of caching)
    expect(await auth.authenticate(access_token, undefined)).toBeDefined();
    t += 2_001;
    await expect(auth.authenticate(access_token, undefined)).rejects.toMatchObject({
      status: 401,
      reason: 'token_inactive',
    });
    expect(auth.stats().requests).toBe(2);
    auth.close();
  });

  it('refuses a token the provider let expire, and never caches past exp', async () => {
    const shortLived = await startOidcProvider({ opaqueTtlSeconds: 2 });
    try {
      const { access_token } = await shortLived.clientCredentials({});
      const issuedBy = Date.now();
      const auth = new IntrospectionAuthenticator(config(shortLived, '60s'));
      expect(await auth.authenticate(access_token, undefined)).toBeDefined();
      // exp = floor(issue time in s) + 2, so it has passed 2 s after the answer arrived
      await new Promise((resolve) => setTimeout(resolve, issuedBy + 2_050 - Date.now()));
      await expect(auth.authenticate(access_token, undefined)).rejects.toMatchObject({ status: 401 });
      expect(auth.stats().requests).toBe(2); // the cached answer ended at exp
      auth.close();
    } finally {
      await shortLived.close();
    }
  });

  it('refuses an unknown token and a token presented with the wrong gateway secret fails closed', async () => {
    const auth = new IntrospectionAuthenticator(config(op));
    await expect(auth.authenticate('not-a-token-it-issued', undefined)).rejects.toMatchObject({ status: 401 });
    auth.close();
    const { access_token } = await op.clientCredentials({});
    const wrong = new IntrospectionAuthenticator({ ...config(op), client_secret: 'wrong-secret' });
    await expect(wrong.authenticate(access_token, undefined)).rejects.toMatchObject({
      status: 503,
      code: 'temporarily_unavailable',
    });
    wrong.close();
  });
});
