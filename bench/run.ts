/**
 * `npm run bench`: starts the upstream, then each setup in its own child process; checks it answers correctly
 * (200 / 401 / 403), loads it (32 connections), asks the child for its CPU time, then measures latency at a fixed
 * rate. Prints one table and the target ratios, all taken within this run.
 *
 *   npm run bench -- [--duration 6] [--only direct,scopegate-bearer] [--loader wrk|autocannon]
 *                    [--profile scopegate-bearer] [--json results.json]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pin, spawnSetup, type SetupProcess } from './child.js';
import { AUDIENCE, CLIENT, ISSUER, NO_SCOPE_CLIENT, makeFixtures, type Fixtures } from './fixtures.js';
import {
  fixedRate,
  runLoad,
  wrkAvailable,
  type FixedRateResult,
  type LoadResult,
  type Loader,
  type Rotation,
} from './load.js';
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
  /** more environment for the child */
  env?: Record<string, string>;
  /** the child's work is done by processes it starts (see SpawnOptions.tree) */
  tree?: boolean;
  /** `all`: the setup may run on every CPU, shared with the load generator and upstream (the worker comparison) */
  cpus?: 'all';
  /** false: skipped (with a note), e.g. nginx when it is not installed */
  available?: () => boolean;
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const setupFile = (name: string) => new URL(`./setups/${name}.ts`, import.meta.url).pathname;

const SETUPS: Setup[] = [
  { name: 'direct', describe: 'upstream called directly', path: '/menu/items', headers: () => ({}), protected: false },
  {
    name: 'pipe',
    describe: 'bare node:http pipe, keep-alive agent, no auth',
    file: setupFile('pipe'),
    path: '/api/menu/items',
    headers: () => ({}),
    protected: false,
  },
  {
    name: 'nginx',
    describe: 'nginx 1 worker, keep-alive upstream, no auth',
    file: setupFile('nginx'),
    path: '/api/menu/items',
    headers: () => ({}),
    protected: false,
    tree: true,
    available: () => onPath('nginx'),
  },
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
  ...[1, 2].map((n): Setup => ({
    name: `scopegate-workers-${n}`,
    describe: `bin/scopegate start, server.workers: ${n}, Bearer (cached), on all CPUs`,
    file: setupFile('scopegate-cluster'),
    path: '/api/menu/items',
    headers: (f) => bearer(f.localToken),
    noScope: (f) => bearer(f.localNoScope),
    protected: true,
    env: { BENCH_WORKERS: String(n) },
    tree: true,
    cpus: 'all',
  })),
];

function onPath(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

interface Row {
  setup: Setup;
  load: LoadResult;
  /** microseconds of the proxy's (or, for direct, nobody's) CPU per request */
  proxyCpuUs?: number;
  upstreamCpuUs: number;
  fixed?: FixedRateResult;
}

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '1' },
    rounds: { type: 'string', default: '2' },
    'fixed-duration': { type: 'string', default: '4' },
    only: { type: 'string' },
    loader: { type: 'string' },
    profile: { type: 'string' },
    json: { type: 'string' },
    pin: { type: 'string', default: 'auto' },
  },
});

/**
 * With `--pin` (default where taskset exists and there are at least 2 CPUs), the proxy under test runs alone on
 * CPU 0 and everything else (this process, the load generator, the upstream) on the others. On a shared 2-core
 * machine the three processes otherwise take turns on the cores, and a proxy's CPU per request then depends on how
 * often its writes wake a sleeping peer: the same build varied by 2x between rounds. Pinned, the proxy's core is
 * the bottleneck and req/s is the inverse of its CPU per request.
 */
function pinning(): { proxy: string; rest: string; all: string } | undefined {
  if (args.pin === 'off' || cpus().length < 2) return undefined;
  try {
    execFileSync('taskset', ['-V'], { stdio: 'ignore' });
  } catch {
    if (args.pin === 'on') throw new Error('--pin on: taskset (util-linux) is not installed');
    return undefined;
  }
  return { proxy: '0', rest: `1-${cpus().length - 1}`, all: `0-${cpus().length - 1}` };
}
const PIN = pinning();

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
  const rounds = Number(args.rounds);
  const only = args.only?.split(',');
  const selected = SETUPS.filter((s) => !only || only.includes(s.name)).filter((s) => {
    if (s.available?.() !== false) return true;
    console.error(`  skipped ${s.name}: not installed here`);
    return false;
  });
  const dir = mkdtempSync(join(tmpdir(), 'scopegate-bench-'));
  // enough distinct tokens that none repeats in warm-up, throughput and fixed-rate runs (the cache would hit)
  const distinctCount = only && !only.includes('scopegate-distinct') ? 1 : 80_000;

  const loadBefore = loadavg()[0]!;
  console.error(`bench: ${loader}, ${CONNECTIONS} connections, ${duration} s per setup; fixtures in ${dir}`);
  if (loadBefore > 0.5)
    console.error(`  note: load average ${loadBefore.toFixed(2)} before the run: other work shares the cores`);
  if (PIN) {
    pin(process.pid, PIN.rest);
    console.error(`  pinned: proxy on CPU ${PIN.proxy}; load generator and upstream on CPU ${PIN.rest}`);
  }
  const upstream = await spawnSetup(new URL('./upstream.ts', import.meta.url).pathname, {
    env: { BENCH_DIR: dir },
    cpus: PIN?.rest,
  });
  const f = await makeFixtures(dir, upstream.url, upstream.extra.jwks!, distinctCount);
  const env = {
    BENCH_UPSTREAM: upstream.url,
    BENCH_JWKS_URL: upstream.extra.jwks!,
    BENCH_ISSUER: ISSUER,
    BENCH_AUDIENCE: AUDIENCE,
    BENCH_CONFIG: f.configPath,
  };

  // Rounds run every setup in turn, and each setup keeps its best round: noise from other work on the machine only
  // ever slows a run down. The fixed-rate latency runs once, in the last round.
  const best = new Map<string, Row>();
  const used = new Map<string, number>();
  try {
    for (let round = 1; round <= rounds; round++) {
      for (const setup of selected) {
        const last = round === rounds;
        const row = await measure(setup, {
          f,
          env,
          dir,
          loader,
          upstream,
          duration,
          warmup,
          fixedDuration,
          last,
          used,
        });
        const previous = best.get(setup.name);
        if (!previous || row.load.rps > previous.load.rps)
          best.set(setup.name, { ...row, fixed: row.fixed ?? previous?.fixed });
        else if (row.fixed) previous.fixed = row.fixed;
        console.error(
          `  round ${round} ${setup.name}: ${Math.round(row.load.rps)} req/s, p99 ${row.load.p99.toFixed(2)} ms, ` +
            `${row.proxyCpuUs?.toFixed(1) ?? '-'} us CPU/req` +
            (row.fixed ? `; at ${FIXED_RATE}/s p99 ${row.fixed.p99.toFixed(2)} ms` : ''),
        );
      }
    }
  } finally {
    await upstream.stop();
  }
  const rows = selected.map((s) => best.get(s.name)!);
  if (args.profile) console.error(`CPU profile of ${args.profile}: ${join(dir, 'profiles')}`);
  report(rows, loader, duration, loadBefore);
  if (args.json) writeFileSync(args.json, JSON.stringify({ loader, duration, machine: machine(), rows }, null, 2));
}

interface MeasureContext {
  f: Fixtures;
  env: Record<string, string>;
  dir: string;
  loader: Loader;
  upstream: SetupProcess;
  duration: number;
  warmup: number;
  fixedDuration: number;
  /** run the fixed-rate latency measurement too */
  last: boolean;
  /** rotating credentials used so far, per setup (so no token repeats across rounds) */
  used: Map<string, number>;
}

/** One setup, one round: start its child, check it, warm up, load it, read its CPU, stop it. */
async function measure(setup: Setup, c: MeasureContext): Promise<Row> {
  let proxy: SetupProcess | undefined;
  if (setup.file) {
    proxy = await spawnSetup(setup.file, {
      env: { ...c.env, ...setup.env },
      stdoutFile: join(c.dir, `${setup.name}.log`),
      cpuProfileDir: args.profile === setup.name && c.last ? join(c.dir, 'profiles') : undefined,
      // `all` must be said: children inherit this process's own mask (the load generator's CPUs)
      cpus: setup.cpus === 'all' ? PIN?.all : PIN?.proxy,
      tree: setup.tree,
    });
  }
  try {
    const url = (proxy?.url ?? c.upstream.url) + setup.path;
    await check(setup, proxy?.url ?? c.upstream.url, c.f);
    const rotation = setup.rotate?.(c.f);
    const start = () => c.used.get(setup.name) ?? 1;
    const advance = (n: number) => c.used.set(setup.name, start() + n);
    const load = async (seconds: number) => {
      const rotate = rotation && { ...rotation, start: start() };
      const r = await runLoad(
        c.loader,
        { url, headers: setup.headers(c.f), rotate, connections: CONNECTIONS, durationS: seconds },
        c.dir,
      );
      advance(r.requests + CONNECTIONS);
      return r;
    };
    await load(c.warmup);
    const [p0, u0] = await Promise.all([proxy?.cpu(), c.upstream.cpu()]);
    const result = await load(c.duration);
    const [p1, u1] = await Promise.all([proxy?.cpu(), c.upstream.cpu()]);
    let fixed: FixedRateResult | undefined;
    if (c.last && c.fixedDuration > 0) {
      const rotate = rotation && { ...rotation, start: start() };
      fixed = await fixedRate({
        url,
        headers: setup.headers(c.f),
        rotate,
        connections: CONNECTIONS,
        durationS: c.fixedDuration,
        warmupS: 1,
        rate: FIXED_RATE,
      });
      advance(FIXED_RATE * (c.fixedDuration + 1));
    }
    if (rotation && start() > rotation.values.length) {
      console.error(`  note: ${setup.name} used ${start()} credentials of ${rotation.values.length}: some repeated`);
    }
    if (result.errors > 0 || result.non2xx > 0 || (fixed?.errors ?? 0) > 0) {
      console.error(
        `  warning: ${setup.name}: ${result.errors} errors, ${result.non2xx} non-2xx, ${fixed?.errors ?? 0} fixed-rate errors`,
      );
    }
    return {
      setup,
      load: result,
      proxyCpuUs: proxy ? (p1! - p0!) / result.requests : undefined,
      upstreamCpuUs: (u1! - u0!) / result.requests,
      fixed,
    };
  } finally {
    await proxy?.stop();
  }
}

function machine(): string {
  return `${cpus().length} x ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, Node ${process.version}`;
}

const fmt = (n: number | undefined, digits = 2) => (n === undefined || Number.isNaN(n) ? '-' : n.toFixed(digits));

function report(rows: Row[], loader: Loader, duration: number, loadBefore: number): void {
  const by = new Map(rows.map((r) => [r.setup.name, r]));
  const direct = by.get('direct');
  const out: string[] = [];
  out.push(
    `Machine: ${machine()}. Load: ${loader}, ${CONNECTIONS} connections, ${duration} s per setup. ` +
      `Load average (1 min) before / after: ${loadBefore.toFixed(2)} / ${loadavg()[0]!.toFixed(2)}.`,
    '',
  );
  out.push(
    '| setup | req/s | p50 ms | p99 ms | proxy CPU us/req | x direct | fixed 1000/s p50 ms | fixed p99 ms | p99 added ms |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  );
  for (const r of rows) {
    out.push(
      `| ${r.setup.name} (${r.setup.describe}) | ${Math.round(r.load.rps)} | ${fmt(r.load.p50)} | ${fmt(r.load.p99)} | ` +
        `${fmt(r.proxyCpuUs, 1)} | ${direct ? fmt(r.load.rps / direct.load.rps) : '-'} | ${fmt(r.fixed?.p50)} | ` +
        `${fmt(r.fixed?.p99)} | ${direct?.fixed && r.fixed && r !== direct ? fmt(r.fixed.p99 - direct.fixed.p99) : '-'} |`,
    );
  }
  out.push('', '| target | measured | goal | |', '| --- | ---: | ---: | --- |');
  /** req/s of `a` over `b`, against `goal`; without one, a reference row that also gives the CPU ratio */
  const ratio = (a: string, b: string, goal?: number) => {
    const x = by.get(a);
    const y = by.get(b);
    if (!x || !y) return;
    const v = x.load.rps / y.load.rps;
    if (goal !== undefined) {
      out.push(`| ${a} / ${b} (req/s) | ${v.toFixed(2)}x | >= ${goal.toFixed(2)}x | ${v >= goal ? 'met' : 'MISSED'} |`);
      return;
    }
    const c =
      x.proxyCpuUs !== undefined && y.proxyCpuUs ? `, CPU/req ${(x.proxyCpuUs / y.proxyCpuUs).toFixed(2)}x` : '';
    out.push(`| ${a} / ${b} (req/s${c}) | ${v.toFixed(2)}x | (reference) | |`);
  };
  // issue 15's targets
  ratio('scopegate-bearer', 'pipe', 0.85);
  ratio('scopegate-bearer', 'fastify-jwt', 1.4);
  ratio('scopegate-distinct', 'express-jwt', 2.5);
  ratio('scopegate-api-key', 'scopegate-bearer', 0.95);
  ratio('scopegate-secret', 'scopegate-bearer', 0.95);
  const cpu = (a: string, b: string, most: number) => {
    const x = by.get(a)?.proxyCpuUs;
    const y = by.get(b)?.proxyCpuUs;
    if (x === undefined || y === undefined) return;
    const v = x / y;
    out.push(
      `| ${a} / ${b} (proxy CPU per request) | ${v.toFixed(2)}x | <= ${most.toFixed(1)}x | ${v <= most ? 'met' : 'MISSED'} |`,
    );
  };
  cpu('scopegate-bearer', 'pipe', 1.2);
  ratio('scopegate-bearer', 'nginx');
  ratio('pipe', 'nginx');
  ratio('scopegate-workers-2', 'scopegate-workers-1');
  const sg = by.get('scopegate-bearer');
  if (sg?.fixed && direct?.fixed) {
    const added = sg.fixed.p99 - direct.fixed.p99;
    out.push(
      `| scopegate-bearer p99 added at ${FIXED_RATE} req/s | ${added.toFixed(2)} ms | <= 1 ms | ${added <= 1 ? 'met' : 'MISSED'} |`,
    );
  }
  console.log(out.join('\n'));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
