/**
 * Key rotation across processes (issue 12 item 6), as operators do it: gateway A is the built CLI (`npm run build`
 * first; `npm test` builds before it tests), gateway B runs in this process; they share one key folder and nothing
 * else. A key file is added, A gets SIGHUP and signs with it; B accepts A's new tokens without a restart.
 */
import { mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateJwk } from '../../../src/issuer/keys.js';
import { SECRETS, standardConfig } from '../../helpers/fixtures.js';
import { getToken, send } from '../../helpers/http.js';
import { startRecordingUpstream, type RecordingUpstream } from '../../helpers/recording-upstream.js';
import { startTestGateway, type TestGateway } from '../../helpers/test-gateway.js';
import { freePort } from '../../helpers/free-port.js';
import { startCli, writeConfigDir, type RunningCli } from '../ops/cli.js';

let upstream: RecordingUpstream;
let keysDir: string;
let a: RunningCli;
let aUrl: string;
let b: TestGateway;

beforeAll(async () => {
  upstream = await startRecordingUpstream();
  keysDir = join(mkdtempSync(join(tmpdir(), 'scopegate-keys-')), 'keys');
  const yaml = (await standardConfig({ upstream: upstream.url })).replace('keys: ./keys', `keys: ${keysDir}`);
  b = await startTestGateway(yaml);
  const port = await freePort();
  const { configPath } = writeConfigDir(yaml.replace('listen: 127.0.0.1:0', `listen: 127.0.0.1:${port}`));
  expect(readFileSync(configPath, 'utf8')).toContain(`listen: 127.0.0.1:${port}`);
  a = startCli(configPath);
  aUrl = (await a.waitForLog((l) => l.msg === 'listening')).url as string;
}, 30_000);

afterAll(async () => {
  if (a && a.child.exitCode === null && a.child.signalCode === null) {
    a.kill('SIGTERM');
    await a.exited;
  }
  await b?.close();
  await upstream?.close();
});

describe('two gateway processes sharing one key folder', () => {
  it('SIGHUP makes A sign with a new key file; B accepts those tokens without a restart', async () => {
    const jwk = await generateJwk('ES256');
    writeFileSync(join(keysDir, '.next.tmp'), JSON.stringify(jwk));
    renameSync(join(keysDir, '.next.tmp'), join(keysDir, `${Math.floor(Date.now() / 1000)}-next.json`));

    a.kill('SIGHUP');
    await a.waitForLog((l) => l.msg === 'issuer keys reloaded' && (l.added as string[]).includes(jwk.kid!));
    const token = (await getToken(aUrl, 'pos', SECRETS.posSecret)).access_token as string;
    expect(decodeProtectedHeader(token).kid).toBe(jwk.kid);

    const res = await send(b.url, 'GET', '/api/menu/today', ['Authorization', `Bearer ${token}`]);
    expect(res.status).toBe(200);
    expect(b.logs.filter((l) => l.msg === 'issuer keys reloaded' && l.reason === 'unknown_kid')).toHaveLength(1);
  });
});
