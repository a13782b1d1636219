/**
 * Several gateway processes (`node dist/src/cli.js start`, built with `npm run build`) sharing one real
 * redis-server, for the scale-out suite (SPEC.md 9, issue 12).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashApiKey } from '../../../src/auth/secret-hash.js';
import { standardConfig } from '../../helpers/fixtures.js';
import { startCli, type RunningCli } from '../ops/cli.js';

export interface Instance {
  cli: RunningCli;
  url: string;
  adminUrl: string;
}

export interface Cluster {
  dir: string;
  configPath: string;
  instances: Instance[];
  /** starts one more process on the same config (port 0: its own ports) */
  start(): Promise<Instance>;
  /** SIGTERM and wait */
  stop(instance: Instance): Promise<void>;
  close(): Promise<void>;
}

export const LIMITED = { id: 'limited', apiKey: 'limited-key-abcdefghijklmnopqrstuvwxyz0123' };

/** A rate-limited client (API key) next to the standard fixture clients. */
export function limitedClient(rate: string): string {
  return `
  - id: ${LIMITED.id}
    scopes: [menu:read]
    rate_limit: ${rate}
    api_keys:
      - hash: "${hashApiKey(LIMITED.apiKey)}"`;
}

export async function startCluster(options: {
  redisUrl: string;
  upstream: string;
  instances: number;
  staleMax?: string;
  extraClients?: string;
}): Promise<Cluster> {
  const dir = mkdtempSync(join(tmpdir(), 'scopegate-scale-'));
  const yaml = (
    await standardConfig({
      upstream: options.upstream,
      serverExtra: '  admin_listen: 127.0.0.1:0',
      ...(options.extraClients ? { extraClients: options.extraClients } : {}),
    })
  ).replace(
    'store: sqlite:./data/state.db',
    // 200 ms, not the 50 ms default: this suite shares two cores with three gateways, Redis and the load it makes
    `store: ${options.redisUrl}\nstore_options:\n  prefix: "scale:"\n  command_timeout: 200ms\n` +
      `  stale_max: ${options.staleMax ?? '60s'}`,
  );
  const configPath = join(dir, 'gateway.yaml');
  writeFileSync(configPath, yaml);
  const instances: Instance[] = [];
  const start = async (): Promise<Instance> => {
    const cli = startCli(configPath);
    const line = await cli.waitForLog((l) => l.msg === 'listening', 20_000);
    const instance = { cli, url: line.url as string, adminUrl: line.admin_url as string };
    instances.push(instance);
    return instance;
  };
  const stop = async (instance: Instance) => {
    if (instance.cli.child.exitCode === null && instance.cli.child.signalCode === null) {
      instance.cli.kill('SIGTERM');
      await instance.cli.exited;
    }
    instances.splice(instances.indexOf(instance), 1);
  };
  // the first one generates the signing key in ./keys; the others then load it
  await start();
  await Promise.all(Array.from({ length: options.instances - 1 }, () => start()));
  return {
    dir,
    configPath,
    instances,
    start,
    stop,
    async close() {
      await Promise.all([...instances].map((i) => stop(i)));
    },
  };
}

/** Polls `/readyz` until `accept` says yes. */
export async function waitForReady(
  instance: Instance,
  accept: (status: number, body: Record<string, unknown>) => boolean = (s) => s === 200,
  timeoutMs = 10_000,
): Promise<number> {
  const start = performance.now();
  for (;;) {
    try {
      const res = await fetch(`${instance.adminUrl}/readyz`);
      const body = (await res.json()) as Record<string, unknown>;
      if (accept(res.status, body)) return performance.now() - start;
    } catch {
      // not up yet
    }
    if (performance.now() - start > timeoutMs) throw new Error(`${instance.adminUrl} never became ready as asked`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, i)]!;
}
