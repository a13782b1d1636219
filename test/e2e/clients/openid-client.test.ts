/**
 * openid-client v6 and oauth4webapi v3, unchanged: discovery (RFC 8414 and OpenID Connect Discovery URLs), HTTP Basic
 * with every character of the id and secret percent-encoded (RFC 6749 2.3.1), `token_type` required in the token
 * response, and their parsing of the gateway's 401/403 Bearer challenges into WWWAuthenticateChallengeError.
 * Plain http needs their opt-in: openid-client's `allowInsecureRequests`, oauth4webapi's `[allowInsecureRequests]`.
 */
import * as oauth from 'oauth4webapi';
import * as client from 'openid-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PARTNER, ROUTES, startClientsGateway, tamper, type ClientsGateway } from './harness.js';

let env: ClientsGateway;

beforeAll(async () => {
  env = await startClientsGateway();
});
afterAll(async () => {
  await env?.close();
});
beforeEach(() => {
  env.upstream.requests.length = 0;
});

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  );
}

function bearerChallenge(err: unknown): { status: number; params: Record<string, string | undefined> } {
  expect(err).toBeInstanceOf(client.WWWAuthenticateChallengeError);
  const e = err as client.WWWAuthenticateChallengeError;
  expect(e.code).toBe('OAUTH_WWW_AUTHENTICATE_CHALLENGE');
  const bearer = e.cause.find((c) => c.scheme === 'bearer');
  expect(bearer, 'a Bearer challenge').toBeDefined();
  return { status: e.status, params: bearer!.parameters as Record<string, string | undefined> };
}

describe('openid-client v6', () => {
  async function discover(secret = PARTNER.secret): Promise<client.Configuration> {
    return client.discovery(new URL(env.url), PARTNER.id, undefined, client.ClientSecretBasic(secret), {
      execute: [client.allowInsecureRequests],
    });
  }

  it('discovers from /.well-known/openid-configuration, gets a token with Basic and calls a protected route', async () => {
    const config = await discover();
    expect(config.serverMetadata().issuer).toBe(env.url);
    expect(config.serverMetadata().token_endpoint).toBe(`${env.url}/oauth/token`);

    const tokens = await client.clientCredentialsGrant(config, { scope: 'menu:read' });
    expect(tokens.token_type).toBe('bearer'); // lower-cased by oauth4webapi
    expect(tokens.scope).toBe('menu:read');
    expect(tokens.expiresIn()).toBeGreaterThan(0);
    expect(tokens.refresh_token).toEqual(expect.any(String));

    const response = await client.fetchProtectedResource(
      config,
      tokens.access_token,
      new URL(ROUTES.allowed, env.url),
      'GET',
    );
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ upstream: true });
    expect(env.upstream.requests).toHaveLength(1);
    expect(env.upstream.requests[0]!.headers['x-auth-client-id']).toBe(PARTNER.id);
    expect(env.upstream.requests[0]!.headers['x-auth-scopes']).toBe('menu:read');
  });

  it('refreshes with refreshTokenGrant (rotation: a new refresh token every time)', async () => {
    const config = await discover();
    const first = await client.clientCredentialsGrant(config);
    const second = await client.refreshTokenGrant(config, first.refresh_token!);
    expect(second.refresh_token).toEqual(expect.any(String));
    expect(second.refresh_token).not.toBe(first.refresh_token);
    const response = await client.fetchProtectedResource(
      config,
      second.access_token,
      new URL(ROUTES.allowed, env.url),
      'GET',
    );
    expect(response.status).toBe(200);
    // The used one is dead: openid-client reports the invalid_grant body.
    const replay = await rejection(client.refreshTokenGrant(config, first.refresh_token!));
    expect(replay).toBeInstanceOf(client.ResponseBodyError);
    expect((replay as client.ResponseBodyError).error).toBe('invalid_grant');
    expect((replay as client.ResponseBodyError).status).toBe(400);
  });

  it('a route the token does not cover: WWWAuthenticateChallengeError 403 insufficient_scope', async () => {
    const config = await discover();
    const tokens = await client.clientCredentialsGrant(config);
    const err = await rejection(
      client.fetchProtectedResource(config, tokens.access_token, new URL(ROUTES.forbidden, env.url), 'GET'),
    );
    const { status, params } = bearerChallenge(err);
    expect(status).toBe(403);
    expect(params.error).toBe('insufficient_scope');
    expect(params.scope).toBe('kitchen:read');
    expect(params.resource_metadata).toBe(`${env.url}/.well-known/oauth-protected-resource`);
    expect(env.upstream.requests).toHaveLength(0);
  });

  it('a refused token: WWWAuthenticateChallengeError 401 invalid_token', async () => {
    const config = await discover();
    const tokens = await client.clientCredentialsGrant(config);
    const err = await rejection(
      client.fetchProtectedResource(config, tamper(tokens.access_token), new URL(ROUTES.allowed, env.url), 'GET'),
    );
    const { status, params } = bearerChallenge(err);
    expect(status).toBe(401);
    expect(params.error).toBe('invalid_token');
    expect(params.realm).toBe('restaurant-api');
    expect(params.resource_metadata).toBe(`${env.url}/.well-known/oauth-protected-resource`);
  });

  it('a wrong secret at the token endpoint: 401 with a Basic challenge', async () => {
    const config = await discover('wrong-secret-wrong-secret-000');
    const err = await rejection(client.clientCredentialsGrant(config));
    expect(err).toBeInstanceOf(client.WWWAuthenticateChallengeError);
    const e = err as client.WWWAuthenticateChallengeError;
    expect(e.status).toBe(401);
    expect(e.cause[0]!.scheme).toBe('basic');
    expect(await e.response.json()).toMatchObject({ error: 'invalid_client' });
  });

  it('refuses plain http without the opt-in (what docs/clients.md says)', async () => {
    const err = await rejection(
      client.discovery(new URL(env.url), PARTNER.id, undefined, client.ClientSecretBasic(PARTNER.secret)),
    );
    expect((err as { code?: string }).code).toBe('OAUTH_HTTP_REQUEST_FORBIDDEN');
  });
});

describe('oauth4webapi v3', () => {
  const insecure = { [oauth.allowInsecureRequests]: true } as const;
  const partner: oauth.Client = { client_id: PARTNER.id };

  async function discover(): Promise<oauth.AuthorizationServer> {
    const issuer = new URL(env.url);
    // algorithm 'oauth2': /.well-known/oauth-authorization-server (RFC 8414)
    const response = await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure });
    return oauth.processDiscoveryResponse(issuer, response);
  }

  async function token(as: oauth.AuthorizationServer, parameters: Record<string, string> = {}) {
    const response = await oauth.clientCredentialsGrantRequest(
      as,
      partner,
      oauth.ClientSecretBasic(PARTNER.secret),
      new URLSearchParams(parameters),
      insecure,
    );
    return oauth.processClientCredentialsResponse(as, partner, response);
  }

  it('discovers from /.well-known/oauth-authorization-server, gets a token and calls a protected route', async () => {
    const as = await discover();
    expect(as.issuer).toBe(env.url);
    const result = await token(as, { scope: 'menu:read orders:read' });
    expect(result.token_type).toBe('bearer');
    expect(result.scope).toBe('menu:read orders:read');
    expect(Number.isInteger(result.expires_in)).toBe(true);

    const response = await oauth.protectedResourceRequest(
      result.access_token,
      'GET',
      new URL(ROUTES.allowed, env.url),
      new Headers(),
      null,
      insecure,
    );
    expect(response.status).toBe(200);
    expect(env.upstream.requests).toHaveLength(1);
    expect(env.upstream.requests[0]!.headers['x-auth-client-id']).toBe(PARTNER.id);
  });

  it('403 and 401 from a protected route surface as WWWAuthenticateChallengeError', async () => {
    const as = await discover();
    const { access_token } = await token(as);
    const forbidden = await rejection(
      oauth.protectedResourceRequest(
        access_token,
        'GET',
        new URL(ROUTES.forbidden, env.url),
        new Headers(),
        null,
        insecure,
      ),
    );
    expect(forbidden).toBeInstanceOf(oauth.WWWAuthenticateChallengeError);
    const f = bearerChallenge(forbidden);
    expect(f.status).toBe(403);
    expect(f.params.error).toBe('insufficient_scope');

    const refused = await rejection(
      oauth.protectedResourceRequest(
        tamper(access_token),
        'GET',
        new URL(ROUTES.allowed, env.url),
        new Headers(),
        null,
        insecure,
      ),
    );
    const r = bearerChallenge(refused);
    expect(r.status).toBe(401);
    expect(r.params.error).toBe('invalid_token');
    expect(r.params.resource_metadata).toBe(`${env.url}/.well-known/oauth-protected-resource`);
    expect(env.upstream.requests).toHaveLength(0);
  });

  it('a scope the client does not hold: ResponseBodyError invalid_scope', async () => {
    const as = await discover();
    const err = await rejection(token(as, { scope: 'kitchen:read' }));
    expect(err).toBeInstanceOf(oauth.ResponseBodyError);
    expect((err as oauth.ResponseBodyError).error).toBe('invalid_scope');
    expect((err as oauth.ResponseBodyError).status).toBe(400);
  });
});
