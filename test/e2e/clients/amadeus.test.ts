/**
 * The Amadeus Node SDK (`amadeus`), unchanged, against the gateway as its token endpoint and API host. It posts body
 * credentials as a chunked body without Content-Length to /v1/security/oauth2/token, never sends `scope`, and
 * parses a response only when its Content-Type is exactly `application/json` (or `application/vnd.amadeus+json`).
 *
 * Plain http: the SDK's `ssl: false` is ignored (`options.ssl || env || true`), and handing it Node's `http` module
 * fails with ERR_INVALID_PROTOCOL because the SDK still asks for `protocol: 'https:'`; an `http` object whose
 * `request` sets `protocol: 'http:'` works (docs/clients.md).
 */
import http from 'node:http';
import Amadeus from 'amadeus';
import { AuthenticationError, ClientError } from 'amadeus/lib/amadeus/client/errors.js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ROUTES, startClientsGateway, tamper, TRAVEL, type ClientsGateway } from './harness.js';

let env: ClientsGateway;

/** The documented plain-http opt-in for tests: an http-compatible object that forces `protocol: 'http:'`. */
const plainHttp = { request: (options: http.RequestOptions) => http.request({ ...options, protocol: 'http:' }) };

function sdk(clientSecret = TRAVEL.secret): Amadeus {
  return new Amadeus({
    clientId: TRAVEL.id,
    clientSecret,
    host: '127.0.0.1',
    port: env.port,
    http: plainHttp,
    logLevel: 'silent',
  });
}

beforeAll(async () => {
  env = await startClientsGateway();
});
afterAll(async () => {
  await env?.close();
});
beforeEach(() => {
  env.upstream.requests.length = 0;
});

describe('Amadeus Node SDK', () => {
  it('gets a token from /v1/security/oauth2/token and calls a protected route with it', async () => {
    const amadeus = sdk();
    const response = await amadeus.client.get(ROUTES.travel, { keyword: 'BER', subType: 'CITY' });
    expect(response.statusCode).toBe(200);
    expect(response.parsed).toBe(true);
    expect(response.result).toMatchObject({ upstream: true, method: 'GET' });
    expect(env.upstream.requests).toHaveLength(1);
    const seen = env.upstream.requests[0]!;
    expect(seen.url).toBe(`${ROUTES.travel}?keyword=BER&subType=CITY`);
    expect(seen.headers['x-auth-client-id']).toBe(TRAVEL.id);
    expect(seen.headers['x-auth-scopes']).toBe('travel:read');
    expect(seen.headers.authorization).toBeUndefined();
    // The token it cached is the one the gateway issued: no scope was asked for, so all of the client's.
    expect(amadeus.client.accessToken.accessToken).toMatch(/^ey/);
  });

  it('a route its token does not cover surfaces as ClientError with the 403 body parsed', async () => {
    const amadeus = sdk();
    const err = await amadeus.client.get(ROUTES.travelForbidden).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ClientError);
    const error = err as ClientError;
    expect(error.code).toBe('ClientError');
    expect(error.response.statusCode).toBe(403);
    // Parsed only because the gateway's Content-Type is exactly application/json.
    expect(error.response.parsed).toBe(true);
    expect(error.description).toMatchObject({ error: 'insufficient_scope' });
    expect(error.response.headers['www-authenticate']).toContain('error="insufficient_scope"');
    expect(env.upstream.requests).toHaveLength(0);
  });

  it('a refused token surfaces as AuthenticationError (401 invalid_token)', async () => {
    const amadeus = sdk();
    await amadeus.client.get(ROUTES.travel);
    const cached = amadeus.client.accessToken;
    cached.accessToken = tamper(cached.accessToken!);
    const err = await amadeus.client.get(ROUTES.travel).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AuthenticationError);
    const error = err as AuthenticationError;
    expect(error.code).toBe('AuthenticationError');
    expect(error.response.statusCode).toBe(401);
    expect(error.description).toMatchObject({ error: 'invalid_token' });
    expect(env.upstream.requests).toHaveLength(1);
  });

  it('a wrong secret surfaces as AuthenticationError from the token endpoint (401 invalid_client)', async () => {
    const amadeus = sdk('not-the-right-secret-at-all-000');
    const err = await amadeus.client.get(ROUTES.travel).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AuthenticationError);
    const error = err as AuthenticationError;
    expect(error.response.statusCode).toBe(401);
    expect(error.description).toMatchObject({ error: 'invalid_client' });
    expect(env.upstream.requests).toHaveLength(0);
  });
});

describe('Amadeus SDK plain-http options (what docs/clients.md tells partners)', () => {
  it('`ssl: false` is ignored: the SDK keeps ssl on', () => {
    const amadeus = new Amadeus({
      clientId: TRAVEL.id,
      clientSecret: TRAVEL.secret,
      host: '127.0.0.1',
      port: 1,
      ssl: false,
    });
    expect(amadeus.client.ssl).toBe(true);
  });

  it("Node's http module alone is refused (the SDK still asks for protocol https:)", async () => {
    const amadeus = new Amadeus({
      clientId: TRAVEL.id,
      clientSecret: TRAVEL.secret,
      host: '127.0.0.1',
      port: env.port,
      http,
      logLevel: 'silent',
    });
    const err = await Promise.resolve()
      .then(() => amadeus.client.get(ROUTES.travel))
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect((err as { code?: string }).code).toBe('ERR_INVALID_PROTOCOL');
  });
});
