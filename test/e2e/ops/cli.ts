/** Runs the built CLI (`npm run build` first; `npm test` builds before it tests) and reads its JSON log lines. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../../dist/src/cli.js', import.meta.url));
/** the command npm installs: a shell script that sets the allocator tunables, then execs node on CLI */
export const LAUNCHER = fileURLToPath(new URL('../../../bin/scopegate', import.meta.url));

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** A short-lived command (check, explain, token): waits for it to exit. */
export function runCli(args: string[], cwd?: string): CliRun {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function writeConfigDir(yaml: string): { dir: string; configPath: string } {
  const dir = mkdtempSync(join(tmpdir(), 'scopegate-cli-'));
  const configPath = join(dir, 'gateway.yaml');
  writeFileSync(configPath, yaml);
  return { dir, configPath };
}

export interface RunningCli {
  child: ChildProcess;
  /** parsed JSON lines of stdout so far */
  logs: Record<string, unknown>[];
  stderr: () => string;
  /** resolves with the first log line (already seen or still to come) that `match` accepts */
  waitForLog(match: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal?: NodeJS.Signals): void;
}

/** `scopegate start --config FILE` as a child process: `node CLI`, or through `launcher` (e.g. LAUNCHER). */
export function startCli(configPath: string, options: { launcher?: string; env?: NodeJS.ProcessEnv } = {}): RunningCli {
  const args = ['start', '--config', configPath];
  const child = options.launcher
    ? spawn(options.launcher, args, { stdio: ['ignore', 'pipe', 'pipe'], env: options.env ?? process.env })
    : spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: options.env ?? process.env });
  const logs: Record<string, unknown>[] = [];
  const waiters: { match: (l: Record<string, unknown>) => boolean; resolve: (l: Record<string, unknown>) => void }[] =
    [];
  let pending = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop()!;
    for (const text of lines) {
      if (!text.trim()) continue;
      const line = JSON.parse(text) as Record<string, unknown>;
      logs.push(line);
      for (const w of [...waiters]) {
        if (w.match(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    logs,
    stderr: () => stderr,
    exited,
    kill: (signal = 'SIGTERM') => void child.kill(signal),
    waitForLog(match, timeoutMs = 10_000) {
      const seen = logs.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new Error(`no matching log line in ${timeoutMs} ms; stderr: ${stderr}; logs: ${JSON.stringify(logs)}`),
            ),
          timeoutMs,
        );
        waiters.push({
          match,
          resolve: (l) => {
            clearTimeout(timer);
            resolve(l);
          },
        });
        void exited.then(() => setTimeout(() => reject(new Error(`exited; stderr: ${stderr}`)), 50));
      });
    },
  };
}
