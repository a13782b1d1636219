/**
 * The soak's gateway (scripts/soak.ts forks it): the built gateway alone in a plain node process, without the tsx
 * loader the rest of the tooling runs under (tsx's hooks thread alone adds about 34 MiB of RSS), so the RSS the soak
 * reports is what `scopegate start` would have. Plain JavaScript for that reason; it imports only dist/ (`npm run
 * soak` builds first).
 *
 *   node --expose-gc scripts/soak-gateway.mjs UPSTREAM_URL     (SOAK_SECRET and SOAK_API_KEY in the environment)
 *
 * Messages from the parent: `stats` (GC, then memory), `direct` (n distinct invalid tokens through the decision
 * pipeline), `stop`.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { hashApiKey, hashSecret } from '../dist/src/auth/secret-hash.js';
import { decide } from '../dist/src/pipeline/decide.js';
import { createLogger } from '../dist/src/server/logger.js';
import { startGateway } from '../dist/src/server/start-gateway.js';

const upstreamUrl = process.argv[2];
const secret = process.env.SOAK_SECRET;
const apiKey = process.env.SOAK_API_KEY;
if (!upstreamUrl || !secret || !apiKey) throw new Error('usage: see the header of scripts/soak-gateway.mjs');

const dir = mkdtempSync(join(tmpdir(), 'scopegate-soak-'));
writeFileSync(
  join(dir, 'gateway.yaml'),
  `
server:
  listen: 127.0.0.1:0
  realm: soak
  failed_auth_limit: 1000000000/min
issuer:
  issuer: http://soak.test
  audience: soak-api
  token_paths: [/oauth/token]
  keys: ./keys
  access_token_ttl: 30m
store: sqlite:./data/state.db
clients:
  - id: soak
    secret_hash: "${await hashSecret(secret)}"
    scopes: [menu:read, orders:read]
    api_keys:
      - hash: "${hashApiKey(apiKey)}"
upstreams:
  app:
    url: ${upstreamUrl}
    timeout: 5s
routes:
  - path: /api/menu/**
    upstream: app
    scopes: { read: [menu:read] }
  - path: /api/orders/**
    upstream: app
    scopes: { read: [orders:read], write: [orders:write] }
  - path: /api/public/**
    upstream: app
    auth: none
`,
);

// Logs are written (the cost is real) but not kept: count lines and drop them.
let lines = 0;
const sink = new Writable({
  write(chunk, _enc, done) {
    for (const b of chunk) if (b === 10) lines++;
    done();
  },
});
const gw = await startGateway({
  configPath: join(dir, 'gateway.yaml'),
  listen: '127.0.0.1:0',
  logger: createLogger(sink, 'info'),
});

function report() {
  const m = process.memoryUsage();
  return {
    rss: m.rss,
    heapUsed: m.heapUsed,
    heapTotal: m.heapTotal,
    external: m.external,
    arrayBuffers: m.arrayBuffers,
    logLines: lines,
  };
}

/**
 * The same decision pipeline the HTTP handler runs (normalize, route, extract, verify: local issuer key look-up and
 * signature check), called directly with `n` distinct invalid tokens: HTTP costs ~2 ms a request on a small
 * machine, this isolates what matters for memory: every cache on the token path must stay bounded.
 */
async function direct(n, head) {
  const enc = (t) => Buffer.from(t).toString('base64url');
  const statuses = new Map();
  const started = Date.now();
  const samples = [];
  for (let i = 0; i < n; i += 1000) {
    if (i % 100_000 === 0) samples.push({ t: Math.round((Date.now() - started) / 1000), ...report() });
    const batch = [];
    for (let j = i; j < Math.min(n, i + 1000); j++) {
      const payload =
        j % 2 ? `{"iss":"http://soak.test","aud":"soak-api","jti":"d${j}","exp":9999999999}` : `{"sub":"d${j}"}`;
      const token = `${j % 2 ? head : enc('{"alg":"ES256","kid":"x"}')}.${enc(payload)}.${enc(`sig-${j}`)}`;
      const facts = {
        method: 'GET',
        target: `/api/menu/${j}`,
        rawHeaders: ['Host', 'x', 'Authorization', `Bearer ${token}`],
      };
      batch.push(decide(facts, gw.runtime().auth).then((d) => (d.kind === 'deny' ? d.error.status : 200)));
    }
    for (const status of await Promise.all(batch)) statuses.set(status, (statuses.get(status) ?? 0) + 1);
  }
  process.send({
    type: 'direct',
    seconds: (Date.now() - started) / 1000,
    statuses: Object.fromEntries(statuses),
    samples,
    ...report(),
  });
}

process.on('message', (msg) => {
  if (msg.type === 'direct') void direct(msg.n, msg.head);
  if (msg.type === 'stats') {
    globalThis.gc?.();
    process.send({ type: 'stats', ...report() });
  }
  if (msg.type === 'stop') void gw.close().then(() => process.exit(0));
});
process.send({ type: 'ready', url: gw.url, ...report() });
