/**
 * `bin/scopegate`, the command npm installs: it must find dist/ through npm's links, hand over to node with exec
 * (the pid that logs `listening` is the one that gets SIGTERM), and give node the allocator tunables unless the
 * operator chose their own (docs/performance.md, "Memory").
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GLIBC_MALLOC_TUNABLES } from '../../../src/server/malloc-tunables.js';
import { SECRETS, standardConfig } from '../../helpers/fixtures.js';
import { send } from '../../helpers/http.js';
import { startRecordingUpstream, type RecordingUpstream } from '../../helpers/recording-upstream.js';
import { LAUNCHER, startCli, writeConfigDir } from './cli.js';

let upstream: RecordingUpstream;
let yaml: string;
beforeAll(async () => {
  upstream = await startRecordingUpstream();
  yaml = (await standardConfig({ upstream: upstream.url })).replace(
    'store: sqlite:./data/state.db',
    'store: "memory:"',
  );
});
afterAll(async () => upstream?.close());

/** the environment a process started with (Linux: /proc/PID/environ) */
const environOf = (pid: number): Record<string, string> =>
  Object.fromEntries(
    readFileSync(`/proc/${pid}/environ`, 'utf8')
      .split('\0')
      .filter(Boolean)
      .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
  );

const linuxOnly = existsSync('/proc/self/environ') ? it : it.skip;

describe('bin/scopegate', () => {
  it('runs the CLI through a symlink, as npm links it into node_modules/.bin', () => {
    const bin = join(mkdtempSync(join(tmpdir(), 'scopegate-bin-')), 'scopegate');
    symlinkSync(LAUNCHER, bin);
    const r = spawnSync(bin, ['--help'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('usage: scopegate <command>');
    // the shell script and the cluster primary (src/server/malloc-tunables.ts) give node the same tunables
    expect(readFileSync(LAUNCHER, 'utf8')).toContain(`GLIBC_TUNABLES=${GLIBC_MALLOC_TUNABLES}\n`);
  });

  linuxOnly('execs node with the allocator tunables, serves, and drains on SIGTERM', async () => {
    const env = { ...process.env };
    delete env.GLIBC_TUNABLES;
    delete env.MALLOC_MMAP_THRESHOLD_;
    const cli = startCli(writeConfigDir(yaml).configPath, { launcher: LAUNCHER, env });
    const listening = await cli.waitForLog((l) => l.msg === 'listening');
    expect(readFileSync(`/proc/${cli.child.pid}/comm`, 'utf8').trim()).toBe('node');
    // glibc cuts the variable at its first ':' in the process's own copy while parsing it (2.36), so /proc shows
    // the first tunable; the next test shows the second one at work
    expect(environOf(cli.child.pid!).GLIBC_TUNABLES).toBe(GLIBC_MALLOC_TUNABLES.split(':')[0]);
    const r = await send(listening.url as string, 'GET', '/api/menu', posSecret);
    expect(r.status).toBe(200);
    cli.kill('SIGTERM');
    expect(await cli.exited).toEqual({ code: 0, signal: null });
  });

  linuxOnly("scrypts leave no 16 MiB blocks behind; an operator's GLIBC_TUNABLES (even empty) is kept", async () => {
    const env = { ...process.env };
    delete env.GLIBC_TUNABLES;
    delete env.MALLOC_MMAP_THRESHOLD_;
    const tuned = await rssGrowthAfterScrypts(env);
    const untuned = await rssGrowthAfterScrypts({ ...env, GLIBC_TUNABLES: '' });
    console.log(`[launcher] RSS growth after 16 scrypts: ${mib(tuned)} MiB tuned, ${mib(untuned)} MiB untuned`);
    // untuned, each of the 4 libuv pool threads keeps its 16 MiB scrypt block: about 64 MiB
    expect(untuned).toBeGreaterThan(40 * MiB);
    expect(tuned).toBeLessThan(untuned - 32 * MiB);
  });
});

const MiB = 1024 * 1024;
const mib = (bytes: number) => (bytes / MiB).toFixed(1);
const posSecret = ['X-Client-Id', 'pos', 'X-Client-Secret', SECRETS.posSecret];
const vmRss = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;

/** RSS after 16 wrong secrets (each a scrypt in the libuv pool, 8 at a time) minus RSS before them */
async function rssGrowthAfterScrypts(env: NodeJS.ProcessEnv): Promise<number> {
  const cli = startCli(writeConfigDir(yaml).configPath, { launcher: LAUNCHER, env });
  try {
    const url = (await cli.waitForLog((l) => l.msg === 'listening')).url as string;
    expect(environOf(cli.child.pid!).GLIBC_TUNABLES).toBe(env.GLIBC_TUNABLES ?? GLIBC_MALLOC_TUNABLES.split(':')[0]);
    expect((await send(url, 'GET', '/api/menu', posSecret)).status).toBe(200);
    const before = vmRss(cli.child.pid!);
    for (let round = 0; round < 2; round++) {
      const wrong = Array.from({ length: 8 }, (_, i) =>
        send(url, 'GET', '/api/menu', ['X-Client-Id', 'pos', 'X-Client-Secret', `wrong-secret-${round}-${i}`]),
      );
      for (const r of await Promise.all(wrong)) expect(r.status).toBe(401);
    }
    return vmRss(cli.child.pid!) - before;
  } finally {
    cli.kill('SIGTERM');
    await cli.exited;
  }
}
