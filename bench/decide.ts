/**
 * decide() alone, in one process, for a repeated credential (cached Bearer token, API key, client secret): the
 * gateway's own per-request check cost without sockets, logging or the load generator. Against another checkout
 * (e.g. the commit before a change) by passing its root:
 *
 *   node --import tsx bench/decide.ts [ROOT]
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { startGateway as StartGateway } from '../src/server/start-gateway.js';
import type { makeFixtures as MakeFixtures } from './fixtures.js';

const root = resolve(process.argv[2] ?? new URL('..', import.meta.url).pathname);
const load = async <T>(path: string) => (await import(join(root, path))) as T;

type Facts = { method: string; target: string; rawHeaders: string[] };
type Decide = (facts: Facts, auth: unknown) => Promise<{ kind: string }>;

async function main(): Promise<void> {
  const { makeFixtures } = await load<{ makeFixtures: typeof MakeFixtures }>('bench/fixtures.ts');
  const { startGateway } = await load<{ startGateway: typeof StartGateway }>('src/server/start-gateway.ts');
  const { decide } = await load<{ decide: Decide }>('src/pipeline/decide.ts');
  const dir = mkdtempSync(join(tmpdir(), 'scopegate-decide-'));
  const f = await makeFixtures(dir, 'http://127.0.0.1:9', 'http://127.0.0.1:9', 1);
  const gw = await startGateway({ configPath: f.configPath, listen: '127.0.0.1:0' });
  const auth = gw.runtime().auth;
  const cases: Record<string, string[]> = {
    'bearer (cached)': ['authorization', `Bearer ${f.localToken}`],
    'api key': ['x-api-key', f.apiKey],
    'client secret (cached)': ['x-client-id', 'bench-client', 'x-client-secret', f.secret],
  };
  for (let round = 0; round < 3; round++) {
    for (const [name, headers] of Object.entries(cases)) {
      const facts = {
        method: 'GET',
        target: '/api/menu/items',
        rawHeaders: ['Host', 'x', 'User-Agent', 'b', ...headers],
      };
      const first = await decide(facts, auth);
      if (first.kind !== 'allow') throw new Error(`${name}: not allowed`);
      const n = 50_000;
      const t0 = process.cpuUsage();
      for (let i = 0; i < n; i++) await decide(facts, auth);
      const used = process.cpuUsage(t0);
      // round 0 warms the JIT up
      if (round > 0) console.log(`${name}: ${((used.user + used.system) / n).toFixed(2)} us CPU per decide()`);
    }
  }
  await gw.close();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
