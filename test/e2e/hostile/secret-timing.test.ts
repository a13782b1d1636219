/**
 * Issue 11.6, THREATS.md "The token endpoint" (an unknown client and a wrong secret indistinguishable): a measured
 * bound. For each kind of stored secret (a scrypt `secret_hash`, a plain `${ENV}` secret) and each place a secret is
 * checked (the token endpoint, X-Client-Id/X-Client-Secret), hundreds of interleaved requests with an unknown client
 * id and with a known id and a wrong secret; the medians must be within 0.5x-2x of each other. Before the fix a
 * plain secret was a fast compare and an unknown id a full scrypt: about 55x apart.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret } from '../../../src/auth/secret-hash.js';
import { send, type RawResponse } from '../../helpers/http.js';
import { startRecordingUpstream, type RecordingUpstream } from '../../helpers/recording-upstream.js';
import { startTestGateway, type TestGateway } from '../../helpers/test-gateway.js';

/** pairs (unknown, wrong) per scenario */
const PAIRS = 200;
/** cheaper than hash-secret's N=16384 so hundreds of samples take seconds; the gateway matches whatever is used */
const PARAMS = { N: 4096, r: 8, p: 1 };

let gw: TestGateway;
let upstream: RecordingUpstream;

beforeAll(async () => {
  process.env.SCOPEGATE_TIMING_SECRET = `plain-${randomBytes(16).toString('base64url')}`;
  upstream = await startRecordingUpstream();
  const hash = await hashSecret(`hashed-${randomBytes(16).toString('base64url')}`, PARAMS);
  gw = await startTestGateway(`
server:
  listen: 127.0.0.1:0
  failed_auth_limit: 100000000/min
issuer:
  issuer: http://gateway.test
  audience: restaurant-api
  keys: ./keys
store: sqlite:./data/state.db
clients:
  - id: hashed
    secret_hash: "${hash}"
    scopes: [menu:read]
  - id: plain
    secret: \${SCOPEGATE_TIMING_SECRET}
    scopes: [menu:read]
upstreams:
  restaurant:
    url: ${upstream.url}
routes:
  - path: /api/menu/**
    upstream: restaurant
    scopes: [menu:read]
`);
});

afterAll(async () => {
  await gw?.close();
  await upstream?.close();
  delete process.env.SCOPEGATE_TIMING_SECRET;
});

type Place = (clientId: string, secret: string) => Promise<RawResponse>;

const tokenEndpoint: Place = (clientId, secret) =>
  send(
    gw.url,
    'POST',
    '/oauth/token',
    ['Content-Type', 'application/x-www-form-urlencoded'],
    new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: secret }).toString(),
  );
const headers: Place = (clientId, secret) =>
  send(gw.url, 'GET', '/api/menu/x', ['X-Client-Id', clientId, 'X-Client-Secret', secret]);

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

async function timed(place: Place, clientId: string): Promise<number> {
  const wrong = `wrong-${randomBytes(16).toString('base64url')}`;
  const start = process.hrtime.bigint();
  const res = await place(clientId, wrong);
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  expect(res.status).toBe(401);
  expect(res.json().error).toBe('invalid_client');
  return ms;
}

describe('unknown client id and wrong secret cost the same (medians of interleaved samples)', () => {
  for (const [placeName, place] of [
    ['token endpoint', tokenEndpoint],
    ['X-Client-Id/X-Client-Secret', headers],
  ] as const) {
    for (const known of ['hashed', 'plain']) {
      it(`${placeName}, ${known} secret`, { timeout: 180_000 }, async () => {
        // warm up: connections, the plain secret's hash, the dummy hash
        for (let i = 0; i < 5; i++) {
          await timed(place, known);
          await timed(place, `unknown-${randomBytes(6).toString('hex')}`);
        }
        const unknown: number[] = [];
        const wrong: number[] = [];
        for (let i = 0; i < PAIRS; i++) {
          const id = `unknown-${randomBytes(6).toString('hex')}`;
          if (Math.random() < 0.5) {
            unknown.push(await timed(place, id));
            wrong.push(await timed(place, known));
          } else {
            wrong.push(await timed(place, known));
            unknown.push(await timed(place, id));
          }
        }
        const ratio = median(unknown) / median(wrong);
        console.log(
          `[secret-timing] ${placeName}, ${known}: median unknown ${median(unknown).toFixed(2)} ms, ` +
            `wrong ${median(wrong).toFixed(2)} ms, ratio ${ratio.toFixed(2)} (n=${PAIRS} each)`,
        );
        expect(ratio).toBeGreaterThan(0.5);
        expect(ratio).toBeLessThan(2);
      });
    }
  }
});
