/**
 * A real JWKS endpoint on 127.0.0.1 whose behaviour a test controls (serve a key set, fail, answer garbage, hang,
 * redirect, go down and come back), plus signing keys and token builders for the tokens a trusted issuer or an
 * attacker would send.
 */
import { createHmac, createPrivateKey, randomBytes, sign as cryptoSign, type JsonWebKey } from 'node:crypto';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload } from 'jose';

export type JwksMode =
  /** 200 with the current key set */
  | 'ok'
  /** 500 */
  | 'error'
  /** 200 with the body set by `setGarbage` */
  | 'garbage'
  /** accepts the request and never answers */
  | 'hang'
  /** 302 to `/elsewhere`, which serves `setRedirectTarget`'s set */
  | 'redirect';

export interface JwksServer {
  /** the jwks_uri */
  readonly url: string;
  /** requests to the jwks_uri so far */
  readonly requests: number;
  /** requests to the redirect target so far */
  readonly redirectTargetRequests: number;
  setKeys(jwks: unknown): void;
  setMode(mode: JwksMode): void;
  setGarbage(body: string, contentType?: string): void;
  setRedirectTarget(jwks: unknown): void;
  /** stops listening (connections are refused) until `up()` */
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

export async function startJwksServer(initial: unknown = { keys: [] }): Promise<JwksServer> {
  let keys = initial;
  let mode: JwksMode = 'ok';
  let garbage = { body: 'not json', type: 'application/json' };
  let redirectTarget: unknown = { keys: [] };
  let requests = 0;
  let redirectTargetRequests = 0;
  const sockets = new Set<Socket>();

  const json = (res: ServerResponse, body: unknown) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };

  let server: Server = createServer();
  const handle = (s: Server) => {
    s.on('connection', (socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    s.on('request', (req, res) => {
      if (req.url === '/elsewhere') {
        redirectTargetRequests++;
        return json(res, redirectTarget);
      }
      if (req.url !== '/jwks') return res.writeHead(404).end();
      requests++;
      switch (mode) {
        case 'ok':
          return json(res, keys);
        case 'error':
          return res.writeHead(500, { 'content-type': 'text/plain' }).end('internal error');
        case 'garbage':
          return res.writeHead(200, { 'content-type': garbage.type }).end(garbage.body);
        case 'hang':
          return undefined;
        case 'redirect':
          return res.writeHead(302, { location: '/elsewhere' }).end();
      }
    });
  };
  handle(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  const stop = (s: Server) =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      s.close(() => resolve());
    });

  return {
    url: `http://127.0.0.1:${port}/jwks`,
    get requests() {
      return requests;
    },
    get redirectTargetRequests() {
      return redirectTargetRequests;
    },
    setKeys: (jwks) => void (keys = jwks),
    setMode: (m) => void (mode = m),
    setGarbage: (body, type = 'application/json') => void (garbage = { body, type }),
    setRedirectTarget: (jwks) => void (redirectTarget = jwks),
    down: () => stop(server),
    async up() {
      server = createServer();
      handle(server);
      await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    },
    close: () => (server.listening ? stop(server) : Promise.resolve()),
  };
}

export interface TestKey {
  kid: string;
  alg: string;
  /** the public JWK, with kid, alg and use */
  publicJwk: JWK;
  privateJwk: JWK;
  /** signs `payload` as a JWT; `header` adds or overrides protected header members */
  sign(
    payload: JWTPayload,
    header?: Record<string, unknown>,
    options?: { crit?: Record<string, boolean> },
  ): Promise<string>;
}

export async function makeKey(alg = 'ES256', kid = `k-${randomBytes(4).toString('hex')}`): Promise<TestKey> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  const privateJwk: JWK = { ...(await exportJWK(privateKey)), kid, alg, use: 'sig' };
  return {
    kid,
    alg,
    publicJwk,
    privateJwk,
    sign: (payload, header = {}, options = {}) =>
      new SignJWT(payload).setProtectedHeader({ alg, kid, typ: 'at+jwt', ...header }).sign(privateKey, options),
  };
}

export const jwksOf = (...keys: TestKey[]) => ({ keys: keys.map((k) => k.publicJwk) });

const b64 = (value: unknown) =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/**
 * A compact JWS with any header and payload (an object, or raw JSON text for shapes JSON.stringify cannot make) and a
 * signature made by `sign` over the signing input (default: an empty signature).
 */
export function craftJws(
  header: Record<string, unknown>,
  payload: Record<string, unknown> | string,
  sign: (input: string) => string = () => '',
): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${sign(input)}`;
}

/** A raw signer for craftJws with a test key's private half (ES256 or RS256). */
export function signerOf(key: TestKey): (input: string) => string {
  const privateKey = createPrivateKey({ key: key.privateJwk as JsonWebKey, format: 'jwk' });
  return (input) =>
    cryptoSign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url');
}

/** The classic key-confusion token: HS256 keyed with the issuer's public key (as JSON and as its `x`/`n` bytes). */
export function hmacWithPublicKey(header: Record<string, unknown>, payload: Record<string, unknown>, secret: string) {
  return craftJws({ ...header, alg: 'HS256' }, payload, (input) =>
    createHmac('sha256', secret).update(input).digest('base64url'),
  );
}
