/**
 * Everything the setups need, made fresh in a temp dir per run: the local issuer's key, a trusted IdP's key, the
 * credentials (tokens with and without the scope, API keys, client secrets) and scopegate's gateway.yaml.
 */
import { createPrivateKey, randomBytes, sign, type JsonWebKey, type KeyObject } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateJwk, publicPart } from '../src/issuer/keys.js';
import { hashApiKey, hashSecret } from '../src/auth/secret-hash.js';

export const ISSUER = 'http://scopegate.bench';
export const IDP_ISSUER = 'http://idp.bench';
export const AUDIENCE = 'restaurant-api';
export const CLIENT = 'bench-client';
export const NO_SCOPE_CLIENT = 'orders-client';

interface SigningJwk {
  kid: string;
  key: KeyObject;
  jwks: { keys: object[] };
}

export interface Fixtures {
  dir: string;
  configPath: string;
  localToken: string;
  localNoScope: string;
  /** every one different (distinct jti): no verification cache hit while they last */
  distinctTokens: string[];
  idpToken: string;
  idpNoScope: string;
  apiKey: string;
  apiKeyNoScope: string;
  secret: string;
  secretNoScope: string;
}

async function signingKey(): Promise<SigningJwk> {
  const jwk = await generateJwk('ES256');
  return {
    kid: jwk.kid!,
    key: createPrivateKey({ key: jwk as JsonWebKey, format: 'jwk' }),
    jwks: { keys: [{ ...publicPart(jwk), use: 'sig' }] },
  };
}

/** An ES256 compact JWS, signed with node:crypto directly (fast enough to pre-mint tens of thousands). */
function jwt(key: SigningJwk, payload: Record<string, unknown>): string {
  const b64 = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const input = `${b64({ alg: 'ES256', kid: key.kid, typ: 'at+jwt' })}.${b64(payload)}`;
  const signature = sign('sha256', Buffer.from(input), { key: key.key, dsaEncoding: 'ieee-p1363' });
  return `${input}.${signature.toString('base64url')}`;
}

function claims(iss: string, clientId: string, scope: string): Record<string, unknown> {
  const iat = Math.floor(Date.now() / 1000);
  return {
    iss,
    sub: clientId,
    aud: AUDIENCE,
    iat,
    exp: iat + 1800,
    jti: randomBytes(12).toString('base64url'),
    client_id: clientId,
    scope,
  };
}

/** Writes keys, JWKS documents (`dir/jwks-NAME.json`, served by the upstream child) and gateway.yaml into `dir`. */
export async function makeFixtures(
  dir: string,
  upstreamUrl: string,
  jwksBase: string,
  distinct: number,
): Promise<Fixtures> {
  const local = await signingKey();
  const idp = await signingKey();
  writeFileSync(join(dir, 'jwks-local.json'), JSON.stringify(local.jwks));
  writeFileSync(join(dir, 'jwks-idp.json'), JSON.stringify(idp.jwks));
  // the local issuer loads its private key from the keys folder, as in production
  mkdirSync(join(dir, 'keys'), { mode: 0o700 });
  writeFileSync(
    join(dir, 'keys', `1-${local.kid}.json`),
    JSON.stringify({ ...local.key.export({ format: 'jwk' }), kid: local.kid, alg: 'ES256', use: 'sig' }),
  );

  const f = {
    apiKey: randomBytes(24).toString('base64url'),
    apiKeyNoScope: randomBytes(24).toString('base64url'),
    secret: randomBytes(24).toString('base64url'),
    secretNoScope: randomBytes(24).toString('base64url'),
  };
  const [secretHash, noScopeHash] = await Promise.all([hashSecret(f.secret), hashSecret(f.secretNoScope)]);
  const configPath = join(dir, 'gateway.yaml');
  writeFileSync(
    configPath,
    `server:
  listen: 127.0.0.1:0
  realm: bench
issuer:
  issuer: ${ISSUER}
  audience: ${AUDIENCE}
  keys: ./keys
  access_token_ttl: 30m
trusted_issuers:
  - issuer: ${IDP_ISSUER}
    jwks_uri: ${jwksBase}/idp
    audience: ${AUDIENCE}
    algorithms: [ES256]
store: sqlite:./data/state.db
clients:
  - id: ${CLIENT}
    secret_hash: "${secretHash}"
    scopes: [menu:read, orders:read]
    api_keys:
      - hash: "${hashApiKey(f.apiKey)}"
        scopes: [menu:read]
  - id: ${NO_SCOPE_CLIENT}
    secret_hash: "${noScopeHash}"
    scopes: [orders:read]
    api_keys:
      - hash: "${hashApiKey(f.apiKeyNoScope)}"
upstreams:
  api:
    url: ${upstreamUrl}
    timeout: 10s
routes:
  - path: /api/menu/**
    upstream: api
    strip_prefix: /api
    scopes:
      read: [menu:read]
      write: [menu:write]
`,
  );

  const distinctTokens: string[] = [];
  for (let i = 0; i < distinct; i++) distinctTokens.push(jwt(local, claims(ISSUER, CLIENT, 'menu:read')));
  return {
    dir,
    configPath,
    localToken: jwt(local, claims(ISSUER, CLIENT, 'menu:read')),
    localNoScope: jwt(local, claims(ISSUER, CLIENT, 'orders:read')),
    distinctTokens,
    idpToken: jwt(idp, claims(IDP_ISSUER, 'partner-app', 'menu:read')),
    idpNoScope: jwt(idp, claims(IDP_ISSUER, 'partner-app', 'orders:read')),
    ...f,
  };
}
