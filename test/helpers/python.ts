/**
 * Finds a Python 3 that can `import requests_oauthlib` (Debian's python3-requests-oauthlib, which .ci/run installs).
 * A python3 first on PATH (pyenv, a venv) usually lacks it, so Debian's /usr/bin/python3 is tried before PATH.
 * `SCOPEGATE_PYTHON` names an interpreter to use instead.
 */
import { execFile, spawnSync } from 'node:child_process';

const CANDIDATES = [process.env.SCOPEGATE_PYTHON, '/usr/bin/python3', '/bin/python3', 'python3'].filter(
  (c): c is string => Boolean(c),
);

let found: { python?: string; reason: string } | undefined;

/** The interpreter, or undefined with the reason (for `it.skipIf` messages). Checked once per test file. */
export function findPython(module = 'requests_oauthlib'): { python?: string; reason: string } {
  if (found) return found;
  const tried: string[] = [];
  for (const candidate of CANDIDATES) {
    const r = spawnSync(candidate, ['-c', `import ${module}`], { encoding: 'utf8', timeout: 10_000 });
    if (r.status === 0) return (found = { python: candidate, reason: `${candidate} imports ${module}` });
    tried.push(
      `${candidate}: ${r.error ? (r.error as NodeJS.ErrnoException).code : (r.stderr.trim().split('\n').at(-1) ?? `exit ${r.status}`)}`,
    );
  }
  return (found = {
    reason: `no Python 3 that can import ${module} (apt-get install python3-requests-oauthlib); tried ${tried.join('; ')}`,
  });
}

export interface PythonRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `python -c script args...` without blocking the event loop (the gateway under test may run in this process).
 */
export function runPython(
  python: string,
  script: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 20_000,
): Promise<PythonRun> {
  return new Promise((resolve) => {
    execFile(
      python,
      ['-c', script, ...args],
      { encoding: 'utf8', timeout: timeoutMs, env: { ...process.env, ...env } },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
