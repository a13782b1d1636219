/**
 * Issue 10, item 5: reloads that cannot lose service. An empty or truncated file is refused (the old config stays),
 * lowering access_token_ttl keeps outstanding tokens valid up to their exp, and a reload storm does not pile up
 * memory (the verified-token cache is shared across reloads, not rebuilt per reload).
 */
import { writeFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/config/config-error.js';
import { SECRETS, standardConfig } from '../../helpers/fixtures.js';
import { getToken, send } from '../../helpers/http.js';
import { startRecordingUpstream, type RecordingUpstream } from '../../helpers/recording-upstream.js';
import { startTestGateway, type TestGateway } from '../../helpers/test-gateway.js';
import { runCli, writeConfigDir } from '../ops/cli.js';

let upstream: RecordingUpstream;
let yaml: string;
const gateways: TestGateway[] = [];

beforeAll(async () => {
  upstream = await startRecordingUpstream();
  yaml = await standardConfig({ upstream: upstream.url });
});
afterEach(async () => {
  for (const gw of gateways.splice(0)) await gw.close();
});
afterAll(async () => {
  await upstream?.close();
});

async function start(text = yaml): Promise<TestGateway> {
  const gw = await startTestGateway(text);
  gateways.push(gw);
  return gw;
}

const bearer = (gw: TestGateway, token: string) =>
  send(gw.url, 'GET', '/api/menu', ['Authorization', `Bearer ${token}`]);

describe('a config without routes', () => {
  it('an empty or truncated file is refused by reload; the old config keeps serving', async () => {
    const gw = await start();
    const key = ['X-Api-Key', SECRETS.menuKey];
    for (const text of ['', yaml.slice(0, yaml.indexOf('routes:'))]) {
      writeFileSync(gw.configPath, text);
      await expect(gw.reload()).rejects.toThrow(ConfigError);
      await expect(gw.reload()).rejects.toThrow(/routes: no routes: every request would be 404/);
      expect((await send(gw.url, 'GET', '/api/menu', key)).status).toBe(200);
      expect((await send(gw.adminUrl!, 'GET', '/readyz')).status).toBe(200);
    }
    writeFileSync(gw.configPath, `${yaml.slice(0, yaml.indexOf('routes:'))}\nallow_no_routes: true\n`);
    await gw.reload();
    expect((await send(gw.url, 'GET', '/api/menu', key)).status).toBe(404);
  });

  it('scopegate check says so for an empty file, and accepts the explicit opt-in', () => {
    const empty = writeConfigDir('');
    const r = runCli(['check', '--config', empty.configPath]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/gateway\.yaml:1:1 routes: no routes/);
    const optIn = writeConfigDir('allow_no_routes: true\n');
    expect(runCli(['check', '--config', optIn.configPath]).status).toBe(0);
  });
});

describe('lowering issuer.access_token_ttl by reload', () => {
  it('outstanding tokens keep the lifetime they were issued with, up to exp; new tokens get the new one', async () => {
    const gw = await start();
    const old = (await getToken(gw.url, 'pos', SECRETS.posSecret)) as { access_token: string; expires_in: number };
    expect(old.expires_in).toBe(1800);
    const unused = (await getToken(gw.url, 'pos', SECRETS.posSecret)) as { access_token: string }; // never seen before the reload
    expect((await bearer(gw, old.access_token)).status).toBe(200);
    writeFileSync(gw.configPath, yaml.replace('access_token_ttl: 30m', 'access_token_ttl: 5m'));
    await gw.reload();
    const fresh = (await getToken(gw.url, 'pos', SECRETS.posSecret)) as { access_token: string; expires_in: number };
    expect(fresh.expires_in).toBe(300);
    expect((await bearer(gw, old.access_token)).status).toBe(200);
    expect((await bearer(gw, unused.access_token)).status).toBe(200);
    expect((await bearer(gw, fresh.access_token)).status).toBe(200);
  });
});

describe('a reload storm', () => {
  it(
    'keeps memory bounded: heap after 300 reloads (forced GC) stays near where it started',
    { timeout: 60_000 },
    async () => {
      setFlagsFromString('--expose-gc');
      const gc = runInNewContext('gc') as () => void;
      const gw = await start();
      const { access_token: token } = (await getToken(gw.url, 'pos', SECRETS.posSecret)) as { access_token: string };
      const heap = () => {
        gc();
        gc();
        return process.memoryUsage().heapUsed;
      };
      for (let i = 0; i < 20; i++) await gw.reload(); // warm up
      const before = heap();
      const reloads = 300;
      for (let i = 0; i < reloads; i++) {
        await gw.reload();
        if (i % 50 === 0) expect((await bearer(gw, token)).status).toBe(200);
      }
      const after = heap();
      const perReload = (after - before) / reloads;
      console.log(
        `reload storm: heap ${(before / 2 ** 20).toFixed(1)} MiB -> ${(after / 2 ** 20).toFixed(1)} MiB after ${reloads} reloads (${(perReload / 1024).toFixed(1)} KiB per reload)`,
      );
      expect(perReload).toBeLessThan(200 * 1024);
    },
  );
});
