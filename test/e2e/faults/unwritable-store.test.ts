/**
 * Issue 10, items 1 and 2 on a store that cannot write: a full filesystem (a small tmpfs, where mount is allowed)
 * and a file that is immutable (`chattr +i`: tests run as root, and root ignores permission bits, not this).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/server/logger.js';
import { startGateway } from '../../../src/server/start-gateway.js';
import { SqliteStore } from '../../../src/store/sqlite-store.js';
import { immutableSupported, mountSmallFilesystem, setImmutable, type SmallFilesystem } from '../../helpers/faults.js';
import { SECRETS, standardConfig } from '../../helpers/fixtures.js';
import { getToken, send, type RawResponse } from '../../helpers/http.js';
import { startRecordingUpstream, type RecordingUpstream } from '../../helpers/recording-upstream.js';
import { startTestGateway, type TestGateway } from '../../helpers/test-gateway.js';
import { CLI, writeConfigDir } from '../ops/cli.js';

let upstream: RecordingUpstream;
let yaml: string;
const gateways: TestGateway[] = [];
const cleanups: (() => void)[] = [];

beforeAll(async () => {
  upstream = await startRecordingUpstream();
  yaml = await standardConfig({ upstream: upstream.url });
});
afterEach(async () => {
  for (const gw of gateways.splice(0)) await gw.close();
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});
afterAll(async () => {
  await upstream?.close();
});

const posBasic = `Basic ${Buffer.from(`pos:${SECRETS.posSecret}`).toString('base64')}`;
const revoke = (gw: TestGateway, token: string) =>
  send(
    gw.url,
    'POST',
    '/oauth/revoke',
    ['Content-Type', 'application/x-www-form-urlencoded', 'Authorization', posBasic],
    new URLSearchParams({ token }).toString(),
  );
const bearer = (gw: TestGateway, token: string) =>
  send(gw.url, 'GET', '/api/menu', ['Authorization', `Bearer ${token}`]);

async function waitForReadyz(gw: TestGateway, status: number, timeoutMs: number): Promise<RawResponse> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await send(gw.adminUrl!, 'GET', '/readyz');
    if (res.status === status || Date.now() > deadline) return res;
    await new Promise((r) => setTimeout(r, 100));
  }
}

const small = mountSmallFilesystem(1024);
if (small) small.unmount();

describe.skipIf(!small)('a full filesystem (tmpfs size=1m)', () => {
  it('revocations are never acknowledged unstored; /readyz says unwritable, then ready again once space is freed', async () => {
    const fsys: SmallFilesystem = mountSmallFilesystem(1024)!;
    cleanups.push(() => fsys.unmount());
    const gw = await startTestGateway(yaml, { dir: fsys.dir });
    gateways.push(gw);
    const tokens: string[] = [];
    for (let i = 0; i < 40; i++) {
      tokens.push(((await getToken(gw.url, 'pos', SECRETS.posSecret)) as { access_token: string }).access_token);
    }
    expect((await send(gw.adminUrl!, 'GET', '/readyz')).status).toBe(200);
    const filler = fsys.fill();

    const answers: number[] = [];
    for (const token of tokens) {
      const res = await revoke(gw, token);
      answers.push(res.status);
      if (res.status === 200) {
        expect((await bearer(gw, token)).status).toBe(401); // acknowledged, so stored
      } else {
        expect(res.status).toBe(503);
        expect(res.headers['retry-after']).toBeDefined();
        expect((await bearer(gw, token)).status).toBe(200); // not acknowledged, not revoked
      }
    }
    console.log(
      `revocations on a full disk: ${answers.filter((s) => s === 200).length} x 200 (stored), ${answers.filter((s) => s === 503).length} x 503`,
    );
    expect(answers).toContain(503);
    const line = gw.logs.find((l) => l.msg === 'store unavailable; answered 503');
    expect(String(line?.err)).toMatch(/full/);

    const full = await waitForReadyz(gw, 503, 10_000);
    expect(full.status).toBe(503);
    expect((full.json().checks as Record<string, string>).store).toMatch(/^unwritable: .*full/);

    rmSync(filler);
    const freed = performance.now();
    expect((await waitForReadyz(gw, 200, 6_000)).status).toBe(200);
    console.log(`/readyz back to 200 ${(performance.now() - freed).toFixed(0)} ms after space was freed`);
    const last = tokens[answers.lastIndexOf(503)]!;
    expect((await revoke(gw, last)).status).toBe(200);
    expect((await bearer(gw, last)).status).toBe(401);
  });
});

const immutable = immutableSupported();

describe.skipIf(!immutable)('a store file that cannot be written (chattr +i)', () => {
  async function unwritableStoreDir(text: string): Promise<{ dir: string; configPath: string }> {
    const made = writeConfigDir(text);
    mkdirSync(join(made.dir, 'data'));
    const file = join(made.dir, 'data', 'state.db');
    const store = new SqliteStore(file);
    await store.close();
    expect(existsSync(`${file}-wal`)).toBe(false);
    expect(setImmutable(file, true)).toBe(true);
    cleanups.push(() => setImmutable(file, false));
    return made;
  }

  it('startGateway refuses it with a clear message', async () => {
    const { configPath } = await unwritableStoreDir(yaml);
    const sink: string[] = [];
    const outcome = await startGateway({
      configPath,
      listen: '127.0.0.1:0',
      logger: createLogger({ write: (l: string) => void sink.push(l) }),
    }).then(
      async (gw) => {
        await gw.close();
        return 'started';
      },
      (err: Error) => err.message,
    );
    expect(outcome).toMatch(/^the store cannot be written: .*readonly/i);
  });

  it('scopegate start exits non-zero with that message', async () => {
    const { configPath } = await unwritableStoreDir(yaml);
    // SIGKILL after 15 s: a gateway that started anyway must not hang the suite
    const r = spawnSync(process.execPath, [CLI, 'start', '--config', configPath], {
      encoding: 'utf8',
      timeout: 15_000,
      killSignal: 'SIGKILL',
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/scopegate: the store cannot be written: .*readonly/i);
    expect(r.stdout).not.toContain('listening');
  });
});
