/**
 * A real gateway for the real-client tests (SPEC.md 5, "Real clients must work unchanged"). Discovery-based clients
 * (openid-client, oauth4webapi) insist that the metadata's `issuer` equals the URL they discovered from, so the
 * gateway listens on a fixed port picked first and its `issuer.issuer` is `http://127.0.0.1:PORT`.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { hashSecret } from '../../../src/auth/secret-hash.js';
import { createLogger } from '../../../src/server/logger.js';
import { startGateway, type RunningGateway } from '../../../src/server/start-gateway.js';
import { standardConfig } from '../../helpers/fixtures.js';
import { freePort } from '../../helpers/free-port.js';
import { startRecordingUpstream, type RecordingUpstream } from '../../helpers/recording-upstream.js';

/**
 * A partner whose id and secret need percent-encoding in HTTP Basic (RFC 6749 2.3.1): openid-client, oauth4webapi
 * and simple-oauth2 encode every character; a server that skipped the form-decoding would refuse them.
 */
export const PARTNER = { id: 'pos.partner~1', secret: "Pa+ss/wo:rd=&%~!*'() with-space-0123" };
/** A client of an Amadeus-style API: the SDK asks for a token at /v1/security/oauth2/token and never sends `scope`. */
export const TRAVEL = { id: 'travel-app', secret: 'travel-secret-with-entropy-2468' };
/** A plain client for clients that send the id and secret as they are (curl -u, Python's HTTPBasicAuth). */
export const PLAIN = { id: 'plain-partner', secret: 'plain-secret-with-entropy-13579' };

/** Routes of the fixture: what each client may call and one route nobody's token covers (the 403). */
export const ROUTES = {
  /** menu:read, held by PARTNER and PLAIN */
  allowed: '/api/menu/12',
  /** kitchen:read, held by nobody */
  forbidden: '/api/kitchen/orders',
  /** travel:read, held by TRAVEL */
  travel: '/v1/reference-data/locations',
  /** travel:book, held by nobody */
  travelForbidden: '/v1/booking/flight-orders',
};

export interface ClientsGateway {
  gateway: RunningGateway;
  upstream: RecordingUpstream;
  /** `http://127.0.0.1:PORT`, equal to `issuer.issuer` */
  url: string;
  port: number;
  close(): Promise<void>;
}

async function clientsYaml(upstream: string, issuer: string): Promise<string> {
  const [partner, travel, plain] = await Promise.all([
    hashSecret(PARTNER.secret),
    hashSecret(TRAVEL.secret),
    hashSecret(PLAIN.secret),
  ]);
  const yaml = await standardConfig({
    upstream,
    extraClients: `
  - id: ${PARTNER.id}
    name: Partner with special characters
    secret_hash: "${partner}"
    scopes: [menu:read, orders:read]
    refresh_tokens: true
  - id: ${TRAVEL.id}
    name: Amadeus SDK user
    secret_hash: "${travel}"
    scopes: [travel:read]
  - id: ${PLAIN.id}
    secret_hash: "${plain}"
    scopes: [menu:read, orders:read]
    refresh_tokens: true
`,
    extraRoutes: `
  - path: /api/kitchen/**
    upstream: restaurant
    scopes: [kitchen:read]
  - path: /v1/reference-data/**
    upstream: restaurant
    scopes: [travel:read]
  - path: /v1/booking/**
    upstream: restaurant
    scopes: [travel:book]
`,
  });
  if (!yaml.includes('issuer: http://gateway.test')) throw new Error('fixture changed: no issuer line to replace');
  return yaml.replace('issuer: http://gateway.test', `issuer: ${issuer}`);
}

/** Starts the gateway on a fixed free port with a recording upstream behind it. */
export async function startClientsGateway(): Promise<ClientsGateway> {
  const upstream = await startRecordingUpstream();
  const dir = mkdtempSync(join(tmpdir(), 'scopegate-clients-'));
  const configPath = join(dir, 'gateway.yaml');
  const quiet = new Writable({ write: (_c, _e, done) => done() });
  let lastError: unknown;
  // Another process may take the port between freePort() and listen: try a few.
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    writeFileSync(configPath, await clientsYaml(upstream.url, url));
    try {
      const gateway = await startGateway({
        configPath,
        listen: `127.0.0.1:${port}`,
        logger: createLogger(quiet, 'warn'),
      });
      if (gateway.url !== url) throw new Error(`gateway listens on ${gateway.url}, expected ${url}`);
      return {
        gateway,
        upstream,
        url,
        port,
        close: async () => {
          await gateway.close();
          await upstream.close();
        },
      };
    } catch (err) {
      lastError = err;
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') break;
    }
  }
  await upstream.close();
  throw lastError;
}

/** Flips a character in the signature: a well-formed token the gateway must refuse with 401 invalid_token. */
export function tamper(token: string): string {
  const last = token.at(-2) === 'A' ? 'B' : 'A';
  return `${token.slice(0, -2)}${last}${token.at(-1)}`;
}
