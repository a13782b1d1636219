/**
 * `npm run bench`: starts the upstream, then each setup in its own child process; checks it answers correctly
 * (200 / 401 / 403), loads it (32 connections), asks the child for its CPU time, then measures latency at a fixed
 * rate. Prints one table and the target ratios, all taken within this run.
 *
 *   npm run bench -- [--duration 6] [--only direct,scopegate-bearer] [--loader wrk|autocannon]
 *                    [--profile scopegate-bearer] [--json results.json]
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { spawnSetup, type SetupProcess } from './child.js';
import { AUDIENCE, CLIENT, ISSUER, NO_SCOPE_CLIENT, makeFixtures, type Fixtures } from './fixtures.js';
import { fixedRate, runLoad, wrkAvailable, type FixedRateResult, type LoadResult, type Loader, type Rotation } from './load.js';
import { UPSTREAM_BODY } from './setups/env.js';

const CONNECTIONS = 32;
const FIXED_RATE = 1000;

interface Setup {
  name: string;
  describe: string;
  /** the child to start; undefined = the upstream itself */
  file?: string;
  path: string;
  headers(f: Fixtures): Record<string, string>;
  rotate?(f: Fixtures): Omit<Rotation, 'start'>;
  /** a credential without the required scope: must get 403 */
  noScope?(f: Fixtures): Record<string, string>;
  /** without any credential it must get 401 */
  protected: boolean;
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const setupFile = (name: string) => new URL(`./setups/${name}.ts`, import.meta.url).pathname;

const SETUPS: Setup[] = [
  { name: 'direct', describe: 'upstream called directly', path: '/menu/items', headers: () => ({}), protected: false },
  {
    name: 'express-hpm',
    describe: 'express 5 + http-proxy-middleware, no auth',
    file: setupFile('express-hpm'),
    path: '/api/menu/items',
    headers: () => ({}),
    protected: false,
  },
  {
    name: 'express-jwt',
    describe: 'express 5 + express-oauth2-jwt-bearer + http-proxy-middleware',
    file: setupFile('express-jwt'),
    path: '/api/menu/items',
    headers: (f) => bearer(f.localToken),
    noScope: (f) => bearer(f.localNoScope),
    protected: true,
  },
  {
    name: 'fastify-jwt',
    describe: 'fastify 5 + @fastify/http-proxy + fast-jwt (cache)',
    file: setupFile('fastify-jwt'),
    path: '/api/menu/items',
    headers: (f) => bearer(f.localToken),
    noScope: (f) => bearer(f.localNoScope),
    protected: true,
  },
  {
    name: 'scopegate-bearer',
    describe: 'scopegate, local Bearer token (cached)',
    file: setupFile('scopegate'),
    path: '/api/menu/items',
    headers: (f) => bearer(f.localToken),
    noScope: (f) => bearer(f.localNoScope),
    protected: true,
  },
  {
    name: 'scopegate-distinct',
    describe: 'scopegate, every request a new local token',
    file: setupFile('scopegate'),
    path: '/api/menu/items',
    headers: () => ({}),
    rotate: (f) => ({ name: 'authorization', values: f.distinctTokens.map((t) => `Bearer ${t}`) }),
    noScope: (f) => bearer(f.localNoScope),
    protected: true,
  },
  {
    name: 'scopegate-api-key',
    describe: 'scopegate, X-Api-Key',
    file: setupFile('scopegate'),
    path: '/api/menu/items',
    headers: (f) => ({ 'x-api-key': f.apiKey }),
    noScope: (f) => ({ 'x-api-key': f.apiKeyNoScope }),
    protected: true,
  },
  {
    name: 'scopegate-secret',
    describe: 'scopegate, X-Client-Id + X-Client-Secret',
    file: setupFile('scopegate'),
    path: '/api/menu/items',
    headers: (f) => ({ 'x-client-id': CLIENT, 'x-client-secret': f.secret }),
    noScope: (f) => ({ 'x-client-id': NO_SCOPE_CLIENT, 'x-client-secret': f.secretNoScope }),
    protected: true,
  },
  {
    name: 'scopegate-trusted',
    describe: 'scopegate, trusted-issuer token (JWKS)',
    file: setupFile('scopegate'),
    path: '/api/menu/items',
    headers: (f) => bearer(f.idpToken),
    noScope: (f) => bearer(f.idpNoScope),
    protected: true,
  },
];

interface Row {
  setup: Setup;
  load: LoadResult;
  /** microseconds of the proxy's (or, for direct, nobody's) CPU per request */
  proxyCpuUs?: number;
  upstreamCpuUs: number;
  fixed: FixedRateResult;
}

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '6' },
    warmup: { type: 'string', default: '2' },
    'fixed-duration': { type: 'string', default: '4' },
    only: { type: 'string' },
    loader: { type: 'string' },
    profile: { type: 'string' },
    json: { type: 'string' },
  },
});

async function expectStatus(url: string, headers: Record<string, string>, status: number, what: string): Promise<void> {
  const res = await fetch(url, { headers });
  const body = await res.text();
  if (res.status !== status) throw new Error(`${what}: expected ${status}, got ${res.status} ${body.slice(0, 200)}`);
  if (status === 200 && body !== UPSTREAM_BODY) throw new Error(`${what}: unexpected body ${body.slice(0, 200)}`);
}

async function check(setup: Setup, url: string, f: Fixtures): Promise<void> {
  const target = url + setup.path;
  const ok = setup.rotate ? { [setup.rotate(f).name]: setup.rotate(f).values[0]! } : setup.headers(f);
  await expectStatus(target, ok, 200, `${setup.name} with a valid credential`);
  if (setup.protected) await expectStatus(target, {}, 401, `${setup.name} without a credential`);
  if (setup.noScope) await expectStatus(target, setup.noScope(f), 403, `${setup.name} without the scope`);
}

async function main(): Promise<void> {
  const loader: Loader = (args.loader as Loader | undefined) ?? (wrkAvailable() ? 'wrk' : 'autocannon');
  const duration = Number(args.duration);
  const warmup = Number(args.warmup);
  const fixedDuration = Number(args['fixed-duration']);
  const only = args.only?.split(',');
  const selected = SETUPS.filter((s) => !only || only.includes(s.name));
  const dir = mkdtempSync(join(tmpdir(), 'scopegate-bench-'));
  // enough distinct tokens that none repeats in warm-up, throughput and fixed-rate runs (the cache would hit)
  const distinctCount = only && !only.includes('scopegate-distinct') ? 1 : 60_000;

  console.error(`bench: ${loader}, ${CONNECTIONS} connections, ${duration} s per setup; fixtures in ${dir}`);
  const upstream = await spawnSetup(new URL('./upstream.ts', import.meta.url).pathname, { env: { BENCH_DIR: dir } });
  const f = await makeFixtures(dir, upstream.url, upstream.extra.jwks!, distinctCount);
  const env = {
    BENCH_UPSTREAM: upstream.url,
    BENCH_JWKS_URL: upstream.extra.jwks!,
    BENCH_ISSUER: ISSUER,
    BENCH_AUDIENCE: AUDIENCE,
    BENCH_CONFIG: f.configPath,
  };

  const rows: Row[] = [];
  try {
    for (const setup of selected) {
      let proxy: SetupProcess | undefined;
      if (setup.file) {
        proxy = await spawnSetup(setup.file, {
          env,
          stdoutFile: join(dir, `${setup.name}.log`),
          cpuProfileDir: args.profile === setup.name ? join(dir, 'profiles') : undefined,
        });
      }
      try {
        const url = proxy?.url ?? upstream.url;
        await check(setup, url, f);
        const rotation = setup.rotate?.(f);
        let used = 0;
        const load = (seconds: number) => {
          const run = runLoad(
            loader,
            {
              url: url + setup.path,
              headers: setup.headers(f),
              rotate: rotation && { ...rotation, start: used },
              connections: CONNECTIONS,
              durationS: seconds,
            },
            dir,
          );
          return run.then((r) => ((used += r.requests + CONNECTIONS), r));
        };
        await load(warmup);
        const [p0, u0] = await Promise.all([proxy?.cpu(), upstream.cpu()]);
        const result = await load(duration);
        const [p1, u1] = await Promise.all([proxy?.cpu(), upstream.cpu()]);
        const fixed = await fixedRate({
          url: url + setup.path,
          headers: setup.headers(f),
          rotate: rotation && { ...rotation, start: used },
          connections: CONNECTIONS,
          durationS: fixedDuration,
          warmupS: 1,
          rate: FIXED_RATE,
        });
        used += FIXED_RATE * (fixedDuration + 1);
        if (rotation && used > rotation.values.length) {
          console.error(`  note: ${setup.name} used ${used} credentials of ${rotation.values.length}: some repeated`);
        }
        if (result.errors > 0 || result.non2xx > 0 || fixed.errors > 0) {
          console.error(`  warning: ${setup.name}: ${result.errors} errors, ${result.non2xx} non-2xx, ${fixed.errors} fixed-rate errors`);
        }
        const row: Row = {
          setup,
          load: result,
          proxyCpuUs: proxy ? (p1! - p0!) / result.requests : undefined,
          upstreamCpuUs: (u1! - u0!) / result.requests,
          fixed,
        };
        rows.push(row);
        console.error(
          `  ${setup.name}: ${Math.round(result.rps)} req/s, p99 ${result.p99.toFixed(2)} ms; ` +
            `at ${FIXED_RATE}/s p99 ${fixed.p99.toFixed(2)} ms`,
        );
      } finally {
        await proxy?.stop();
      }
    }
  } finally {
    await upstream.stop();
  }
  if (args.profile) console.error(`CPU profile of ${args.profile}: ${join(dir, 'profiles')}`);
  report(rows, loader, duration);
  if (args.json) writeFileSync(args.json, JSON.stringify({ loader, duration, machine: machine(), rows }, null, 2));
}

function machine(): string {
  return `${cpus().length} x ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, Node ${process.version}`;
}

const fmt = (n: number | undefined, digits = 2) => (n === undefined || Number.isNaN(n) ? '-' : n.toFixed(digits));

function report(rows: Row[], loader: Loader, duration: number): void {
  const by = new Map(rows.map((r) => [r.setup.name, r]));
  const direct = by.get('direct');
  const out: string[] = [];
  out.push(`Machine: ${machine()}. Load: ${loader}, ${CONNECTIONS} connections, ${duration} s per setup.`, '');
  out.push(
    '| setup | req/s | p50 ms | p99 ms | proxy CPU us/req | x direct | fixed 1000/s p50 ms | fixed p99 ms | p99 added ms |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  );
  for (const r of rows) {
    out.push(
      `| ${r.setup.name} (${r.setup.describe}) | ${Math.round(r.load.rps)} | ${fmt(r.load.p50)} | ${fmt(r.load.p99)} | ` +
        `${fmt(r.proxyCpuUs, 1)} | ${direct ? fmt(r.load.rps / direct.load.rps) : '-'} | ${fmt(r.fixed.p50)} | ` +
        `${fmt(r.fixed.p99)} | ${direct && r !== direct ? fmt(r.fixed.p99 - direct.fixed.p99) : '-'} |`,
    );
  }
  out.push('', '| target | measured | goal | |', '| --- | ---: | ---: | --- |');
  const ratio = (a: string, b: string, goal: number) => {
    const x = by.get(a);
    const y = by.get(b);
    if (!x || !y) return;
    const v = x.load.rps / y.load.rps;
    out.push(`| ${a} / ${b} (req/s) | ${v.toFixed(2)}x | >= ${goal.toFixed(1)}x | ${v >= goal ? 'met' : 'MISSED'} |`);
  };
  ratio('scopegate-bearer', 'express-hpm', 2.0);
  ratio('scopegate-bearer', 'express-jwt', 3.0);
  ratio('scopegate-bearer', 'fastify-jwt', 1.0);
  ratio('scopegate-distinct', 'express-jwt', 1.3);
  ratio('scopegate-secret', 'scopegate-bearer', 0.9);
  const sg = by.get('scopegate-bearer');
  if (sg && direct) {
    const added = sg.fixed.p99 - direct.fixed.p99;
    out.push(`| scopegate-bearer p99 added at ${FIXED_RATE} req/s | ${added.toFixed(2)} ms | <= 1 ms | ${added <= 1 ? 'met' : 'MISSED'} |`);
  }
  console.log(out.join('\n'));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
