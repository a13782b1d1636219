/**
 * Two gateway processes sharing one SQLite store (SPEC.md 5, issue 3 item 4): a client revoked through one of them,
 * or with `scopegate revoke` from a third process, is refused by the other within 1 s. Gateway A runs in this
 * process; gateway B is the built CLI (`npm run build` first: `npm test` builds before it tests) started with the
 * same YAML, the same folder (so the same `sqlite:./data/state.db` and `./keys`) and another listen port.
 */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { standardConfig, SECRETS } from '../../helpers/fixtures.js';
import { send } from '../../helpers/http.js';
import { startRecordingUpstream, type RecordingUpstream } from '../../helpers/recording-upstream.js';
import { startTestGateway, type TestGateway } from '../../helpers/test-gateway.js';
import { freePort } from '../../helpers/free-port.js';
import { CLI, startCli, type RunningCli } from '../ops/cli.js';
import { admin, pollUntil, postForm, revocableClients, type ExtraClient } from './harness.js';

/** SPEC.md 5: "within 1 s" */
const LIMIT_MS = 1000;

const VIA_CLI: ExtraClient = {
  id: 'cli-revokee',
  secret: 'cli-revokee-secret-entropy-1357',
  apiKey: 'cli-revokee-key-abcdefghijklmnopqrstuvwxyz01',
};
const VIA_ADMIN: ExtraClient = {
  id: 'admin-revokee',
  secret: 'admin-revokee-secret-entropy-2468',
  apiKey: 'admin-revokee-key-abcdefghijklmnopqrstuvwxyz0',
};

let upstream: RecordingUpstream;
let a: TestGateway;
let b: RunningCli;
let bUrl: string;
let configA: string;

/** `node dist/src/cli.js ARGS` without blocking this process's event loop (gateway A serves from it). */
function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 20_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

async function token(base: string, client: ExtraClient): Promise<string> {
  const reply = await postForm(base, '/oauth/token', client, { grant_type: 'client_credentials' });
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  return reply.body.access_token as string;
}

const menuStatus = async (base: string, token: string) =>
  (await send(base, 'GET', '/api/menu/1', ['Authorization', `Bearer ${token}`])).status;

beforeAll(async () => {
  upstream = await startRecordingUpstream();
  const yaml = await standardConfig({
    upstream: upstream.url,
    extraClients: await revocableClients([VIA_CLI, VIA_ADMIN]),
  });
  a = await startTestGateway(yaml);
  configA = a.configPath;
  // Same folder, same store and keys; only the listen port differs.
  const port = await freePort();
  const yamlB = readFileSync(configA, 'utf8').replace('listen: 127.0.0.1:0', `listen: 127.0.0.1:${port}`);
  expect(yamlB).toContain(`listen: 127.0.0.1:${port}`);
  const configB = join(a.dir, 'gateway-b.yaml');
  writeFileSync(configB, yamlB);
  b = startCli(configB);
  bUrl = (await b.waitForLog((l) => l.msg === 'listening')).url as string;
  expect(bUrl).toBe(`http://127.0.0.1:${port}`);
}, 30_000);
afterAll(async () => {
  if (b && b.child.exitCode === null && b.child.signalCode === null) {
    b.kill('SIGTERM');
    await b.exited;
  }
  await a?.close();
  await upstream?.close();
});

describe('two gateway processes sharing one SQLite file', () => {
  it('tokens of one are accepted by the other (same keys, same store)', async () => {
    expect(await menuStatus(bUrl, await token(a.url, VIA_CLI))).toBe(200);
    expect(await menuStatus(a.url, await token(bUrl, VIA_CLI))).toBe(200);
  });

  it('`scopegate revoke --client` (a third process): the second gateway refuses the token within 1 s', async () => {
    const fromA = await token(a.url, VIA_CLI);
    // B has just accepted it: its short client-state cache holds "not revoked", the worst case.
    expect(await menuStatus(bUrl, fromA)).toBe(200);

    const spawned = performance.now();
    const revoke = await cli(['revoke', '--client', VIA_CLI.id, '--config', configA]);
    const revokedAt = performance.now();
    expect(revoke.stderr).toBe('');
    expect(revoke.code).toBe(0);
    expect(revoke.stdout).toContain(`revoked client "${VIA_CLI.id}"`);

    const elapsed = await pollUntil(async () => (await menuStatus(bUrl, fromA)) === 401, LIMIT_MS + 500);
    console.info(
      `cross-process revocation (CLI): second gateway refused the token ${elapsed?.toFixed(0) ?? 'never'} ms after ` +
        `\`scopegate revoke\` returned (the command itself took ${(revokedAt - spawned).toFixed(0)} ms)`,
    );
    expect(elapsed, 'refused by the second process').toBeDefined();
    expect(elapsed!).toBeLessThanOrEqual(LIMIT_MS);

    // the secret, API key and token endpoint of either process refuse the client too
    const secret = ['X-Client-Id', VIA_CLI.id, 'X-Client-Secret', VIA_CLI.secret];
    expect((await send(bUrl, 'GET', '/api/menu/1', secret)).status).toBe(401);
    expect((await send(bUrl, 'GET', '/api/menu/1', ['X-Api-Key', VIA_CLI.apiKey])).status).toBe(401);
    expect((await postForm(bUrl, '/oauth/token', VIA_CLI, { grant_type: 'client_credentials' })).status).toBe(401);
    expect(await menuStatus(a.url, fromA)).toBe(401);

    // `scopegate restore`: new tokens work on both, the old one stays dead
    const restore = await cli(['restore', '--client', VIA_CLI.id, '--config', configA]);
    expect(restore.code, restore.stderr).toBe(0);
    const fresh = await token(bUrl, VIA_CLI);
    const works = await pollUntil(
      async () => (await menuStatus(a.url, fresh)) === 200 && (await menuStatus(bUrl, fresh)) === 200,
      LIMIT_MS,
    );
    expect(works, 'a token issued after restore works on both').toBeDefined();
    expect(await menuStatus(bUrl, fromA)).toBe(401);
  });

  it("the first gateway's admin API: the second gateway refuses the token within 1 s", async () => {
    const fromB = await token(bUrl, VIA_ADMIN);
    expect(await menuStatus(bUrl, fromB)).toBe(200);

    const res = await admin(a.adminUrl!, `/admin/clients/${VIA_ADMIN.id}/revoke`, SECRETS.adminToken);
    expect(res.status).toBe(200);
    // A revoked it itself: at once there
    expect(await menuStatus(a.url, fromB)).toBe(401);

    const elapsed = await pollUntil(async () => (await menuStatus(bUrl, fromB)) === 401, LIMIT_MS + 500);
    console.info(
      `cross-process revocation (admin API of gateway A): gateway B refused the token ${elapsed?.toFixed(0) ?? 'never'} ms after the admin API answered`,
    );
    expect(elapsed, 'refused by the second process').toBeDefined();
    expect(elapsed!).toBeLessThanOrEqual(LIMIT_MS);
  });
});
