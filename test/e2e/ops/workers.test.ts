/**
 * SPEC.md 9 `server.workers` with the built CLI and real processes: two workers behind one listener serve requests,
 * /metrics on the admin listener counts both, an admin revocation holds on both, a killed worker is restarted,
 * SIGTERM to the primary drains every worker and exits 0, and `memory:` with two workers is refused.
 */
import { writeFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SECRETS, standardConfig } from '../../helpers/fixtures.js';
import { send } from '../../helpers/http.js';
import { startRecordingUpstream, type RecordingUpstream } from '../../helpers/recording-upstream.js';
import { runCli, startCli, writeConfigDir, type RunningCli } from './cli.js';

let upstream: RecordingUpstream;
let yaml: string;
const running: RunningCli[] = [];

beforeAll(async () => {
  upstream = await startRecordingUpstream();
  yaml = (await standardConfig({ upstream: upstream.url, serverExtra: '  workers: 2' })).replace(
    'mode: enforce',
    'mode: enforce\n  admin_listen: 127.0.0.1:0',
  );
});
afterEach(async () => {
  for (const cli of running.splice(0)) {
    if (cli.child.exitCode === null && cli.child.signalCode === null) {
      cli.kill('SIGKILL');
      await cli.exited;
    }
  }
});
afterAll(async () => {
  await upstream?.close();
});

const apiKey = ['X-Api-Key', SECRETS.menuKey];
/** one request on a fresh connection (the cluster hands connections to workers in turn) */
const fresh = (url: string, headers: string[]) => send(url, 'GET', '/api/menu', headers, undefined, '127.0.0.1');

function sample(text: string, name: string, labels: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line === undefined ? 0 : Number(line.split(' ').at(-1));
}

describe('server.workers: 2', () => {
  it('serves from both workers, aggregates /metrics, holds a revocation on both, and drains on SIGTERM', async () => {
    const { configPath } = writeConfigDir(yaml);
    const cli = startCli(configPath);
    running.push(cli);
    const up = await cli.waitForLog((l) => l.msg === 'workers listening', 20_000);
    const workerPids = up.worker_pids as number[];
    expect(workerPids).toHaveLength(2);
    expect(new Set(workerPids).size).toBe(2);
    expect(workerPids).not.toContain(cli.child.pid);
    const url = (await cli.waitForLog((l) => l.msg === 'listening' && typeof l.url === 'string')).url as string;
    const adminUrl = up.admin_url as string;

    for (let i = 0; i < 10; i++) expect((await fresh(url, apiKey)).status).toBe(200);
    await cli.waitForLog(
      (l) => l.msg === 'request' && l.status === 200 && cli.logs.filter((x) => x.msg === 'request').length >= 10,
    );
    const served = cli.logs.filter((l) => l.msg === 'request' && l.status === 200).map((l) => l.pid);
    expect(new Set(served)).toEqual(new Set(workerPids));

    const metrics = await (await fetch(`${adminUrl}/metrics`)).text();
    expect(sample(metrics, 'scopegate_requests_total', 'route="/api/menu/**",decision="allow",reason="none"')).toBe(10);

    const admin = { Authorization: `Bearer ${SECRETS.adminToken}` };
    const revoked = await fetch(`${adminUrl}/admin/clients/pos/revoke`, { method: 'POST', headers: admin });
    expect(revoked.status).toBe(200);
    await new Promise((r) => setTimeout(r, 1_000)); // SPEC.md 9: holds everywhere within 1 s
    const before = cli.logs.length;
    for (let i = 0; i < 10; i++) expect((await fresh(url, apiKey)).status).toBe(401);
    await cli.waitForLog(() => cli.logs.slice(before).filter((x) => x.msg === 'request').length >= 10);
    const refused = cli.logs.slice(before).filter((l) => l.msg === 'request' && l.status === 401);
    expect(new Set(refused.map((l) => l.pid))).toEqual(new Set(workerPids));

    cli.kill('SIGTERM');
    expect((await cli.exited).code).toBe(0);
    const stopped = cli.logs.filter((l) => l.msg === 'stopped').map((l) => l.pid);
    expect(new Set(stopped)).toEqual(new Set([...workerPids, cli.child.pid]));
    expect(cli.logs.find((l) => l.msg === 'stopped' && l.pid === cli.child.pid)?.workers_clean).toBe(true);
  }, 60_000);

  it('a SIGHUP to the primary reloads every worker; an invalid file reloads none', async () => {
    const { configPath } = writeConfigDir(yaml);
    const cli = startCli(configPath);
    running.push(cli);
    const up = await cli.waitForLog((l) => l.msg === 'workers listening', 20_000);
    const url = (await cli.waitForLog((l) => l.msg === 'listening' && typeof l.url === 'string')).url as string;
    const realms = async () => {
      const seen = new Set<string>();
      for (let i = 0; i < 6; i++) seen.add(String((await fresh(url, [])).headers['www-authenticate']));
      return [...seen];
    };
    expect(await realms()).toEqual([expect.stringContaining('realm="restaurant-api"')]);

    writeFileSync(configPath, yaml.replace('realm: restaurant-api', 'realm: relam: typo'));
    cli.kill('SIGHUP');
    await cli.waitForLog((l) => l.msg === 'config reload failed; keeping the previous config');
    // validated in the primary only: the workers are never told to reload an invalid file
    const failures = cli.logs.filter((l) => l.msg === 'config reload failed; keeping the previous config');
    expect(failures.every((l) => l.pid === cli.child.pid)).toBe(true);

    writeFileSync(configPath, yaml.replace('realm: restaurant-api', 'realm: other-realm'));
    cli.kill('SIGHUP');
    const reloadedBy = async (pid: number) =>
      cli.waitForLog((l) => l.msg === 'config reloaded' && l.reason === 'sighup' && l.pid === pid);
    await Promise.all([cli.child.pid!, ...(up.worker_pids as number[])].map(reloadedBy));
    expect(await realms()).toEqual([expect.stringContaining('realm="other-realm"')]);
    cli.kill('SIGTERM');
    expect((await cli.exited).code).toBe(0);
  }, 60_000);

  it('restarts a worker that dies, and logs it', async () => {
    const { configPath } = writeConfigDir(yaml);
    const cli = startCli(configPath);
    running.push(cli);
    const up = await cli.waitForLog((l) => l.msg === 'workers listening', 20_000);
    const [victim] = up.worker_pids as number[];
    process.kill(victim!, 'SIGKILL');
    const exited = await cli.waitForLog((l) => l.msg === 'worker exited; restarting');
    expect(exited).toMatchObject({ level: 'error', worker_pid: victim, signal: 'SIGKILL' });
    const restarted = await cli.waitForLog((l) => l.msg === 'worker restarted', 20_000);
    expect(restarted.worker_pid).not.toBe(victim);
    const url = (await cli.waitForLog((l) => l.msg === 'listening' && typeof l.url === 'string')).url as string;
    for (let i = 0; i < 4; i++) expect((await fresh(url, apiKey)).status).toBe(200);
    cli.kill('SIGTERM');
    expect((await cli.exited).code).toBe(0);
  }, 60_000);

  it('per-client and failed-auth limits hold across both workers', async () => {
    const limited = yaml
      .replace('refresh_tokens: true', 'refresh_tokens: true\n    rate_limit: 4/min')
      .replace('mode: enforce', 'mode: enforce\n  failed_auth_limit: 3/min');
    const { configPath } = writeConfigDir(limited);
    const cli = startCli(configPath);
    running.push(cli);
    await cli.waitForLog((l) => l.msg === 'workers listening', 20_000);
    const url = (await cli.waitForLog((l) => l.msg === 'listening' && typeof l.url === 'string')).url as string;
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push((await fresh(url, apiKey)).status);
    // each worker allows its share, 4 / 2; alone each would allow 4, 8 in all
    expect(statuses.filter((s) => s === 200)).toHaveLength(4);
    expect(statuses.filter((s) => s === 429)).toHaveLength(6);
    // failed checks are counted in the shared store: the 4th bad key is refused whichever worker gets it
    const bad: number[] = [];
    for (let i = 0; i < 6; i++)
      bad.push((await fresh(url, ['X-Api-Key', `wrong-key-${i}-abcdefghijklmnopqrstuvwxyz`])).status);
    expect(bad).toEqual([401, 401, 401, 429, 429, 429]);
    cli.kill('SIGTERM');
    expect((await cli.exited).code).toBe(0);
  }, 60_000);

  it('refuses store memory: with more than one worker, naming the key', async () => {
    const { configPath } = writeConfigDir(yaml.replace('store: sqlite:./data/state.db', 'store: "memory:"'));
    const checked = runCli(['check', '--config', configPath]);
    expect(checked.status).not.toBe(0);
    expect(checked.stderr + checked.stdout).toMatch(/server\.workers.*shared store/);
    const cli = startCli(configPath);
    running.push(cli);
    const { code } = await cli.exited;
    expect(code).not.toBe(0);
    expect(cli.stderr()).toMatch(/server\.workers.*shared store/);
  }, 30_000);
});
