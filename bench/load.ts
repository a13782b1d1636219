/**
 * Load generators. Throughput runs use wrk when it is installed (C, one thread: leaves the most CPU to the servers
 * under test) and autocannon's programmatic API otherwise. The fixed-rate run is an open-loop pacer written here:
 * autocannon's `overallRate` is a per-connection budget per second that each connection spends back to back, so it
 * sends bursts rather than a steady rate, which would measure queueing, not the latency a proxy adds.
 */
import { execFile, execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

export type Loader = 'wrk' | 'autocannon';

/** A credential that changes on every request: header `name` takes `values` in turn, from index `start`. */
export interface Rotation {
  name: string;
  values: readonly string[];
  start: number;
}

export interface LoadRequest {
  url: string;
  headers: Record<string, string>;
  rotate?: Rotation;
  connections: number;
  durationS: number;
}

export interface LoadResult {
  loader: Loader;
  requests: number;
  rps: number;
  /** milliseconds */
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
}

export function wrkAvailable(): boolean {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
    return true;
  } catch (err) {
    // wrk --version exits 1 after printing its version; only "not found" means it is missing
    return (err as NodeJS.ErrnoException).code !== 'ENOENT';
  }
}

export function runLoad(loader: Loader, req: LoadRequest, scratchDir: string): Promise<LoadResult> {
  return loader === 'wrk' ? runWrk(req, scratchDir) : runAutocannon(req);
}

const script = (name: string) => fileURLToPath(new URL(`./wrk/${name}`, import.meta.url));

async function runWrk(req: LoadRequest, scratchDir: string): Promise<LoadResult> {
  const args = ['-t1', `-c${req.connections}`, `-d${req.durationS}s`, '--timeout', '5s'];
  for (const [name, value] of Object.entries(req.headers)) args.push('-H', `${name}: ${value}`);
  if (req.rotate) {
    const file = `${scratchDir}/rotate-${req.rotate.name}.txt`;
    writeFileSync(file, `${req.rotate.values.join('\n')}\n`);
    args.push('-s', script('rotate.lua'), req.url, '--', req.rotate.name, file, String(req.rotate.start));
  } else {
    args.push('-s', script('report.lua'), req.url);
  }
  const stdout = await new Promise<string>((resolve, reject) =>
    execFile('wrk', args, { maxBuffer: 1 << 20 }, (err, out) => (err ? reject(err) : resolve(out))),
  );
  const line = stdout.split('\n').find((l) => l.startsWith('BENCH_JSON '));
  if (!line) throw new Error(`wrk printed no result:\n${stdout}`);
  const r = JSON.parse(line.slice('BENCH_JSON '.length)) as Record<string, number>;
  return {
    loader: 'wrk',
    requests: r.requests!,
    rps: r.requests! / (r.duration_us! / 1e6),
    p50: r.p50_us! / 1000,
    p99: r.p99_us! / 1000,
    errors: r.errors!,
    non2xx: r.non2xx!,
  };
}

async function runAutocannon(req: LoadRequest): Promise<LoadResult> {
  const latencies: number[] = [];
  let non2xx = 0;
  let next = req.rotate?.start ?? 0;
  const rotate = req.rotate;
  let finish!: (result: autocannon.Result) => void;
  let fail!: (err: Error) => void;
  const finished = new Promise<autocannon.Result>((resolve, reject) => ((finish = resolve), (fail = reject)));
  const options: autocannon.Options = {
    url: req.url,
    connections: req.connections,
    duration: req.durationS,
    headers: req.headers,
    ...(rotate
      ? {
          requests: [
            {
              setupRequest: (r: autocannon.Request) => {
                const value = rotate.values[next++ % rotate.values.length]!;
                r.headers = { ...req.headers, [rotate.name]: value };
                return r;
              },
            },
          ],
        }
      : {}),
  };
  const instance = autocannon(options, (err, result) => (err ? fail(err as Error) : finish(result)));
  instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
    latencies.push(ms);
    if (status < 200 || status > 299) non2xx++;
  });
  const result = await finished;
  const sorted = Float64Array.from(latencies).sort();
  return {
    loader: 'autocannon',
    requests: sorted.length,
    rps: sorted.length / req.durationS,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    errors: result.errors + result.timeouts,
    non2xx,
  };
}

export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export interface FixedRateResult {
  sent: number;
  /** milliseconds, each request timed from its send to the end of its response */
  p50: number;
  p99: number;
  max: number;
  errors: number;
}

/**
 * Open loop: request i is sent at t0 + i / rate (checked every millisecond), whatever the earlier ones are doing,
 * over a keep-alive pool. `warmupS` seconds run first and are not recorded.
 */
export async function fixedRate(req: LoadRequest & { rate: number; warmupS: number }): Promise<FixedRateResult> {
  const url = new URL(req.url);
  const agent = new Agent({ keepAlive: true, maxSockets: req.connections });
  const latencies: number[] = [];
  let errors = 0;
  let sent = 0;
  let inFlight = 0;
  let next = req.rotate?.start ?? 0;
  const total = Math.round(req.rate * (req.warmupS + req.durationS));
  const warmupCount = Math.round(req.rate * req.warmupS);

  const fire = (index: number) => {
    const headers = req.rotate
      ? { ...req.headers, [req.rotate.name]: req.rotate.values[next++ % req.rotate.values.length]! }
      : req.headers;
    inFlight++;
    const started = process.hrtime.bigint();
    const r = request(
      { host: url.hostname, port: url.port, path: url.pathname + url.search, headers, agent },
      (res) => {
        res.resume();
        res.on('end', () => {
          inFlight--;
          if (res.statusCode !== 200) errors++;
          if (index >= warmupCount) latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
        });
      },
    );
    r.on('error', () => {
      inFlight--;
      errors++;
    });
    r.end();
  };

  await new Promise<void>((resolve) => {
    const t0 = performance.now();
    const tick = setInterval(() => {
      const due = Math.min(total, Math.floor(((performance.now() - t0) * req.rate) / 1000) + 1);
      while (sent < due) fire(sent++);
      if (sent >= total) {
        clearInterval(tick);
        const wait = setInterval(() => {
          if (inFlight === 0) {
            clearInterval(wait);
            resolve();
          }
        }, 5);
      }
    }, 1);
  });
  agent.destroy();
  const sorted = Float64Array.from(latencies).sort();
  return {
    sent: sorted.length,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1] ?? Number.NaN,
    errors,
  };
}
