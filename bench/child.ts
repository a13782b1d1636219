/**
 * Every server of the benchmark (upstream, each proxy setup) runs in its own child process, so the CPU it spends is
 * attributable: the parent asks for `process.cpuUsage()` over IPC before and after a load run (or, for a child whose
 * work is done by processes it starts, reads the whole process tree's CPU from /proc).
 */
import { execFileSync, fork } from 'node:child_process';
import { openSync, readdirSync, readFileSync } from 'node:fs';

type ToChild = { type: 'cpu' } | { type: 'stop' };
type FromChild =
  | { type: 'ready'; url: string; extra: Record<string, string> }
  | { type: 'cpu'; usage: NodeJS.CpuUsage }
  | { type: 'failed'; message: string };

export interface Started {
  url: string;
  /** more addresses the child serves (e.g. the JWKS server) */
  extra?: Record<string, string>;
}

/** In a child: start the server, report its URL, answer CPU questions, exit when told or orphaned. */
export function serveSetup(start: () => Promise<Started>): void {
  const send = (msg: FromChild) => process.send?.(msg);
  process.on('message', (msg: ToChild) => {
    if (msg.type === 'cpu') send({ type: 'cpu', usage: process.cpuUsage() });
    else if (msg.type === 'stop') process.exit(0);
  });
  process.on('disconnect', () => process.exit(0));
  start().then(
    ({ url, extra }) => send({ type: 'ready', url, extra: extra ?? {} }),
    (err: unknown) => {
      send({ type: 'failed', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
      process.exit(1);
    },
  );
}

export interface SetupProcess {
  url: string;
  extra: Record<string, string>;
  pid: number;
  /** the child's own CPU time so far (user + system, microseconds) */
  cpu(): Promise<number>;
  stop(): Promise<void>;
}

export interface SpawnOptions {
  env?: Record<string, string>;
  /** the child's stdout goes here (e.g. the gateway's request log); default: discarded */
  stdoutFile?: string;
  /** write a V8 CPU profile of the child into this folder when it exits */
  cpuProfileDir?: string;
  /** run every thread of the child on these CPUs only (taskset list, e.g. "0") */
  cpus?: string;
  /**
   * the child starts other processes that do the work (nginx, a cluster's workers): CPU time is summed over the
   * whole process tree from /proc, and pinning applies to every process in it
   */
  tree?: boolean;
}

/** [pid, ppid, user + system CPU in clock ticks] of every process /proc lists (Linux only). */
function processTable(): [number, number, number][] {
  const rows: [number, number, number][] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      // the command name (field 2) is in parentheses and may hold spaces: fields are counted after its ')'
      const stat = readFileSync(`/proc/${name}/stat`, 'latin1');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      rows.push([Number(name), Number(fields[1]), Number(fields[11]) + Number(fields[12])]);
    } catch {
      // the process exited while the table was read
    }
  }
  return rows;
}

/** `pid` and every process descended from it. */
function processTree(pid: number, table = processTable()): [number, number, number][] {
  const tree = table.filter(([p]) => p === pid);
  for (let i = 0; i < tree.length; i++) tree.push(...table.filter(([, parent]) => parent === tree[i]![0]));
  return tree;
}

let clockTicks: number | undefined;
/** CPU time (microseconds) of `pid` and its descendants, as the kernel counts it (clock ticks, 10 ms each). */
function treeCpuUs(pid: number): number {
  clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
  return (processTree(pid).reduce((sum, [, , ticks]) => sum + ticks, 0) * 1e6) / clockTicks;
}

/**
 * Pins every thread of `pid` to `cpus` (sched_setaffinity through util-linux's taskset; Node has no binding). Threads
 * started later (libuv's pool) inherit the mask of the thread that starts them.
 */
export function pin(pid: number, cpus: string): void {
  execFileSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
}

/** Forks `file` (TypeScript, through tsx) and waits until it listens. */
export function spawnSetup(file: string, options: SpawnOptions = {}): Promise<SetupProcess> {
  const execArgv = ['--import', 'tsx'];
  if (options.cpuProfileDir) execArgv.push('--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`);
  const stdout = options.stdoutFile ? openSync(options.stdoutFile, 'a') : 'ignore';
  const child = fork(file, [], {
    execArgv,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', stdout, 'inherit', 'ipc'],
  });
  if (options.cpus !== undefined) pin(child.pid!, options.cpus);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let cpuWaiters: ((us: number) => void)[] = [];

  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`${file} did not start within 30 s`));
    }, 30_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${file} exited with code ${code} before it was ready`));
    });
    child.on('message', (msg: FromChild) => {
      if (msg.type === 'failed') {
        clearTimeout(timer);
        reject(new Error(`${file} failed to start: ${msg.message}`));
      } else if (msg.type === 'cpu') {
        const waiters = cpuWaiters;
        cpuWaiters = [];
        for (const w of waiters) w(msg.usage.user + msg.usage.system);
      } else if (msg.type === 'ready') {
        clearTimeout(timer);
        // again: threads (and, for a tree, processes) the child started while it loaded were not there at first
        if (options.cpus !== undefined) {
          for (const [pid] of options.tree ? processTree(child.pid!) : [[child.pid!]]) pin(pid!, options.cpus);
        }
        resolve({
          url: msg.url,
          extra: msg.extra,
          pid: child.pid!,
          cpu: () =>
            options.tree
              ? Promise.resolve(treeCpuUs(child.pid!))
              : new Promise<number>((done) => {
                  cpuWaiters.push(done);
                  child.send({ type: 'cpu' } satisfies ToChild);
                }),
          async stop() {
            if (child.exitCode === null && child.connected) child.send({ type: 'stop' } satisfies ToChild);
            const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
            await exited;
            clearTimeout(killer);
          },
        });
      }
    });
  });
}
