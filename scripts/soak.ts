/**
 * Soak test (issue 5): a started gateway on loopback under mixed valid and hostile traffic, bounded in time, then a
 * report: requests, 5xx count, unauthenticated forwards (must be 0) and the gateway's RSS at start and end.
 *
 *   npm run soak -- --minutes 2 --invalid-tokens 1000000 [--concurrency 64]   (builds dist/ first)
 *
 * The gateway runs in a child process (scripts/soak-gateway.mjs, plain node: its RSS is measured alone, as
 * `scopegate start` would have it); the load generator and a counting upstream run
 * in this one. The upstream counts every request that reaches a protected path without `X-Auth-Client-Id`: that is
 * an unauthenticated forward, and the soak fails (exit 1) when there is one, or any 5xx.
 *
 * Every invalid token is distinct (a fresh JWT-shaped string, half of them with the local issuer's `iss` so they
 * reach signature verification), so any per-token cache without a bound shows up as RSS growth.
 * `failed_auth_limit` is lifted: with the default 20/min every request from 127.0.0.1 would be a 429 after a second.
 */
import { fork } from 'node:child_process';
import { Agent, createServer, request, type IncomingHttpHeaders } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { mallocTunablesEnv } from '../src/server/malloc-tunables.js';

/** The gateway child: the built code (`npm run soak` builds first) in a plain node process, as `scopegate start`. */
const GATEWAY_CHILD = fileURLToPath(new URL('./soak-gateway.mjs', import.meta.url));
const SECRET = 'soak-secret-with-enough-entropy-0123';
const API_KEY = 'soak-api-key-abcdefghijklmnopqrstuvwxyz0123';

interface Args {
  minutes: number;
  invalidTokens: number;
  concurrency: number;
}

function parseArgs(argv: string[]): Args {
  const get = (name: string, fallback: number) => {
    const at = argv.indexOf(`--${name}`);
    const value = at >= 0 ? Number(argv[at + 1]) : fallback;
    if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number`);
    return value;
  };
  return {
    minutes: get('minutes', 1),
    invalidTokens: get('invalid-tokens', 100_000),
    concurrency: get('concurrency', 64),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Parent: upstream, load, report

interface GatewayStats {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  logLines: number;
}

/** the gateway child's process.memoryUsage() at `t` seconds into a phase */
type MemorySample = GatewayStats & { t: number };

function startChild(upstreamUrl: string) {
  const child = fork(GATEWAY_CHILD, [upstreamUrl], {
    // no tsx loader (this process runs under it): only --expose-gc, for the `stats` message's GC
    execArgv: ['--expose-gc'],
    // what bin/scopegate gives a started gateway (the primary gives its workers the same)
    env: { ...process.env, ...mallocTunablesEnv(), SOAK_SECRET: SECRET, SOAK_API_KEY: API_KEY },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const waiters: ((s: GatewayStats & { url?: string }) => void)[] = [];
  child.on('message', (m: GatewayStats & { type: string; url?: string }) => waiters.shift()?.(m));
  const next = () => new Promise<GatewayStats & { url?: string }>((r) => waiters.push(r));
  return {
    child,
    ready: next(),
    stats: () => {
      const p = next();
      child.send({ type: 'stats' });
      return p;
    },
    direct: (n: number, head: string) => {
      const p = next() as Promise<
        GatewayStats & { seconds: number; statuses: Record<string, number>; samples: MemorySample[] }
      >;
      child.send({ type: 'direct', n, head });
      return p;
    },
  };
}

async function startCountingUpstream() {
  const counts = { requests: 0, unauthenticatedForwards: 0, hostileForwards: 0 };
  const server = createServer((req, res) => {
    counts.requests++;
    const path = (req.url ?? '').split('?')[0]!;
    if (!path.startsWith('/api/public/') && req.headers['x-auth-client-id'] === undefined)
      counts.unauthenticatedForwards++;
    if (/\.\.|%2e|%2f|%5c/i.test(path)) counts.hostileForwards++;
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('{"ok":true}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, counts, server };
}

const b64 = (s: string) => Buffer.from(s).toString('base64url');

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const upstream = await startCountingUpstream();
  const gw = startChild(upstream.url);
  const ready = await gw.ready;
  const base = new URL(ready.url!);
  const agent = new Agent({ keepAlive: true, maxSockets: args.concurrency });

  const call = (method: string, path: string, headers: Record<string, string> = {}, body?: string) =>
    new Promise<number>((resolve) => {
      const req = request({ host: base.hostname, port: base.port, method, path, headers, agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', () => resolve(-1));
      if (body !== undefined) req.write(body);
      req.end();
    });

  const tokenRes = await fetch(`${ready.url}/oauth/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: `grant_type=client_credentials&client_id=soak&client_secret=${SECRET}`,
  });
  const valid = ((await tokenRes.json()) as { access_token: string }).access_token;
  const [validHead] = valid.split('.');

  // warm-up, then the baseline
  for (let i = 0; i < 2000; i++) await call('GET', '/api/menu/warm', { Authorization: `Bearer ${valid}` });
  const start = await gw.stats();

  const stats = { requests: 0, byStatus: new Map<number, number>(), invalidTokens: 0, errors: 0 };
  const samples: MemorySample[] = [{ t: 0, ...start }];
  const started = Date.now();
  const deadline = started + args.minutes * 60_000;
  let counter = 0;

  /** one request of the mix; returns the status */
  const hostilePaths = [
    '/api/public/%2e%2e/menu/x',
    '/api/public/..;/menu',
    '/api/public/%252e%252e/menu',
    '/api/menu%2f..%2fpublic',
    '/API/menu',
    '/api/publicity',
    '/api/public/%c0%ae%c0%ae/menu',
  ];
  async function one(): Promise<number> {
    const n = counter++;
    const invalidLeft = stats.invalidTokens < args.invalidTokens;
    const pick = n % 20;
    if (invalidLeft && pick < 12) {
      stats.invalidTokens++;
      // distinct per request; every other one claims the local issuer so it reaches signature verification
      const payload =
        n % 2 ? `{"iss":"http://soak.test","aud":"soak-api","jti":"${n}","exp":9999999999}` : `{"sub":"${n}"}`;
      const token = `${n % 2 ? validHead : b64('{"alg":"ES256","kid":"x"}')}.${b64(payload)}.${b64(`sig-${n}`)}`;
      return call('GET', '/api/menu/x', { Authorization: `Bearer ${token}` });
    }
    switch (pick % 10) {
      case 0:
        return call('GET', `/api/menu/${n}`, { Authorization: `Bearer ${valid}` });
      case 1:
        return call('GET', `/api/orders/${n}?x=${n}`, { 'X-Api-Key': API_KEY });
      case 2:
        return call('GET', hostilePaths[n % hostilePaths.length]!);
      case 3:
        return call('GET', '/api/menu/x', { 'X-Api-Key': `unknown-key-${n}-0123456789abcdef` });
      case 4:
        return call(
          'POST',
          '/api/orders/x',
          { Authorization: `Bearer ${valid}`, 'Content-Type': 'application/json' },
          '{}',
        );
      case 5:
        return call('GET', `/api/public/p${n}`, {
          'X-Auth-Client-Id': 'admin',
          X_Auth_Scopes: 'menu:write',
          'X-HTTP-Method-Override': 'DELETE',
        });
      case 6:
        return call('GET', '/api/menu/x', { Connection: 'X-Auth-Client-Id', 'X-Auth-Client-Id': 'admin' });
      case 7:
        return n % 50 === 7
          ? call('GET', '/api/orders/x', { 'X-Client-Id': 'soak', 'X-Client-Secret': `wrong-${n}` }) // scrypt: rare
          : call('GET', `/api/menu/x?access_token=${n}`);
      case 8:
        return rawAttack(n);
      default:
        return call('GET', '/api/menu/x');
    }
  }

  /** smuggling attempts on their own socket; 400 expected */
  function rawAttack(n: number): Promise<number> {
    const variants = [
      'POST /api/public/x HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      'POST /api/public/x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n0\r\n\r\n',
      `GET /api/menu HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer a\r\nAuthorization: Bearer ${valid}\r\nConnection: close\r\n\r\n`,
    ];
    return new Promise((resolve) => {
      const s = connect(Number(base.port), base.hostname, () => s.write(variants[n % variants.length]!));
      let out = '';
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        s.destroy();
        resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(out)?.[1] ?? -1));
      };
      s.on('data', (d: Buffer) => {
        out += d.toString('latin1');
        if (/^HTTP\/1\.1 \d{3}/.test(out)) finish();
      });
      s.on('close', finish);
      s.on('error', () => undefined);
      s.setTimeout(5000, finish);
    });
  }

  const worker = async () => {
    while (Date.now() < deadline) {
      const status = await one();
      stats.requests++;
      if (status < 0) stats.errors++;
      stats.byStatus.set(status, (stats.byStatus.get(status) ?? 0) + 1);
    }
  };
  const sampler = setInterval(() => {
    void gw.stats().then((s) => samples.push({ t: Math.round((Date.now() - started) / 1000), ...s }));
  }, 10_000);
  const progress = setInterval(() => {
    process.stderr.write(
      `  ${Math.round((Date.now() - started) / 1000)}s: ${stats.requests} requests, ${stats.invalidTokens} invalid tokens\n`,
    );
  }, 15_000);
  await Promise.all(Array.from({ length: args.concurrency }, worker));
  clearInterval(sampler);
  clearInterval(progress);
  const end = await gw.stats();
  const seconds = (Date.now() - started) / 1000;

  // The rest of --invalid-tokens that HTTP could not send in time goes through the decision pipeline directly.
  const rest = Math.max(0, args.invalidTokens - stats.invalidTokens);
  const direct = rest > 0 ? await gw.direct(rest, validHead!) : undefined;
  const afterDirect = direct ? await gw.stats() : undefined;

  const fivexx = [...stats.byStatus].filter(([s]) => s >= 500).reduce((a, [, c]) => a + c, 0);
  const mb = (b: number) => `${(b / 1024 / 1024).toFixed(1)} MiB`;
  const line = (m: MemorySample) =>
    `${m.t}s rss ${mb(m.rss)} heap ${mb(m.heapUsed)}/${mb(m.heapTotal)} external ${mb(m.external)}`;
  const report = {
    minutes: args.minutes,
    concurrency: args.concurrency,
    requests: stats.requests,
    requests_per_second: Math.round(stats.requests / seconds),
    invalid_tokens: stats.invalidTokens,
    status_counts: Object.fromEntries([...stats.byStatus].sort(([a], [b]) => a - b)),
    five_xx: fivexx,
    transport_errors: stats.errors,
    upstream_requests: upstream.counts.requests,
    unauthenticated_forwards: upstream.counts.unauthenticatedForwards,
    hostile_path_forwards: upstream.counts.hostileForwards,
    glibc_tunables: { ...process.env, ...mallocTunablesEnv() }.GLIBC_TUNABLES ?? null,
    gateway_rss_start: mb(start.rss),
    gateway_rss_end: mb(end.rss),
    gateway_heap_start: mb(start.heapUsed),
    gateway_heap_end: mb(end.heapUsed),
    // rss, V8 heap used / reserved, and memory outside the heap (Buffers, native), over time
    gateway_memory_samples: samples.map(line),
    gateway_log_lines: end.logLines,
    ...(direct && afterDirect
      ? {
          direct_invalid_tokens: rest,
          direct_seconds: direct.seconds,
          direct_statuses: direct.statuses,
          direct_memory_samples: direct.samples.map(line),
          gateway_rss_after_direct: mb(afterDirect.rss),
          gateway_heap_after_direct: mb(afterDirect.heapUsed),
        }
      : {}),
  };
  console.log(JSON.stringify(report, null, 2));

  gw.child.send({ type: 'stop' });
  agent.destroy();
  upstream.server.closeAllConnections();
  upstream.server.close();
  const directOk = !direct || Object.keys(direct.statuses).every((st) => Number(st) < 500);
  const ok =
    directOk && fivexx === 0 && upstream.counts.unauthenticatedForwards === 0 && upstream.counts.hostileForwards === 0;
  if (!ok) console.error('SOAK FAILED: 5xx, unauthenticated or hostile-path forwards seen');
  process.exitCode = ok ? 0 : 1;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

export type { IncomingHttpHeaders };
