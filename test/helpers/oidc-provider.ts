/**
 * A real OpenID Provider (panva/oidc-provider 8.8, the newest line that supports Node 20) on 127.0.0.1:0 for the trusted-issuer and introspection tests.
 *
 * - `client_credentials` for the client `partner` (scopes menu:read orders:read orders:write);
 * - with `resource=https://api.example` (RFC 8707) the access token is a JWT (RFC 9068) signed with a per-run ES256
 *   key published at the provider's JWKS; without `resource` it is an opaque token that only introspection can read;
 * - an introspection client `gateway` (RFC 7662), and revocation (RFC 7009) for `partner`.
 * State lives in oidc-provider's default in-memory adapter, so each instance starts empty.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { exportJWK, generateKeyPair } from 'jose';
import Provider, { errors, type Configuration } from 'oidc-provider';

export const API_RESOURCE = 'https://api.example';
export const PARTNER_SCOPES = 'menu:read orders:read orders:write';

export interface OidcProviderOptions {
  /** lifetime of the JWT access tokens for API_RESOURCE, seconds */
  jwtTtlSeconds?: number;
  /** lifetime of the opaque client-credentials tokens, seconds */
  opaqueTtlSeconds?: number;
}

export interface TestOidcProvider {
  issuer: string;
  jwksUri: string;
  introspectionEndpoint: string;
  partner: { id: string; secret: string };
  gateway: { id: string; secret: string };
  /** client_credentials as `partner`; with `resource` the token is a JWT, without it opaque */
  clientCredentials(params?: { scope?: string; resource?: string }): Promise<TokenResponse>;
  /** RFC 7009 revocation as `partner` */
  revoke(token: string): Promise<void>;
  close(): Promise<void>;
}

export interface TokenResponse {
  access_token: string;
  token_type: string;
  expires_in: number;
  scope?: string;
}

const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

export async function startOidcProvider(options: OidcProviderOptions = {}): Promise<TestOidcProvider> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const signingKey = {
    ...(await exportJWK(privateKey)),
    kid: `op-${randomBytes(4).toString('hex')}`,
    alg: 'ES256',
    use: 'sig',
  };

  const partner = { id: 'partner', secret: randomBytes(24).toString('base64url') };
  const gateway = { id: 'gateway', secret: randomBytes(24).toString('base64url') };

  const configuration: Configuration = {
    clients: [
      {
        client_id: partner.id,
        client_secret: partner.secret,
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        scope: PARTNER_SCOPES,
      },
      { client_id: gateway.id, client_secret: gateway.secret, grant_types: [], response_types: [], redirect_uris: [] },
    ],
    jwks: { keys: [signingKey] },
    clientDefaults: { id_token_signed_response_alg: 'ES256' },
    cookies: { keys: [randomBytes(16).toString('hex')] },
    scopes: PARTNER_SCOPES.split(' '),
    ttl: {
      ClientCredentials: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? options.opaqueTtlSeconds ?? 600,
    },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: {
        enabled: true,
        // only the gateway may introspect
        allowedPolicy: (ctx) => ctx.oidc.client?.clientId === gateway.id,
      },
      revocation: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => undefined as unknown as string,
        useGrantedResource: () => false,
        getResourceServerInfo: (_ctx, resource) => {
          if (resource !== API_RESOURCE) throw new errors.InvalidTarget();
          return {
            scope: PARTNER_SCOPES,
            audience: API_RESOURCE,
            accessTokenTTL: options.jwtTtlSeconds ?? 600,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'ES256' } },
          };
        },
      },
    },
  };

  const provider = new Provider(issuer, configuration);
  server.on('request', provider.callback());

  const form = async (path: string, body: Record<string, string>, auth: string) => {
    const res = await fetch(`${issuer}${path}`, {
      method: 'POST',
      headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${path} answered ${res.status}: ${text}`);
    return text;
  };

  return {
    issuer,
    jwksUri: `${issuer}/jwks`,
    introspectionEndpoint: `${issuer}/token/introspection`,
    partner,
    gateway,
    async clientCredentials(params = {}) {
      const body: Record<string, string> = { grant_type: 'client_credentials', scope: params.scope ?? PARTNER_SCOPES };
      if (params.resource !== undefined) body.resource = params.resource;
      return JSON.parse(await form('/token', body, basic(partner.id, partner.secret))) as TokenResponse;
    },
    async revoke(token) {
      await form('/token/revocation', { token }, basic(partner.id, partner.secret));
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
