/**
 * `server.tls` (issue 12 item 7, SPEC.md 9): both listeners serve HTTPS from PEM files relative to the config
 * folder; a replaced pair is served without a restart (file watch, and reload/SIGHUP); a pair that does not load
 * keeps the previous one; a missing file fails the start naming it. Certificates are made per run with openssl.
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway } from '../../../src/server/start-gateway.js';
import { standardConfig } from '../../helpers/fixtures.js';
import { startRecordingUpstream, type RecordingUpstream } from '../../helpers/recording-upstream.js';
import { startTestGateway, type TestGateway } from '../../helpers/test-gateway.js';

const hasOpenssl = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

interface Pair {
  cert: string;
  key: string;
  fingerprint: string;
}

/** A self-signed P-256 certificate for 127.0.0.1, valid one day. */
function makePair(dir: string, name: string): Pair {
  const keyFile = join(dir, `${name}.key`);
  const certFile = join(dir, `${name}.crt`);
  execFileSync(
    'openssl',
    [
      ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1'],
      ...['-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', keyFile, '-out', certFile],
    ],
    { stdio: 'ignore' },
  );
  const cert = readFileSync(certFile, 'utf8');
  return { cert, key: readFileSync(keyFile, 'utf8'), fingerprint: new X509Certificate(cert).fingerprint256 };
}

/** GET with only `ca` trusted; rejects when the served certificate is not signed by it. */
function get(url: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The fingerprint of the certificate a listener serves now. */
function served(url: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port), rejectUnauthorized: false }, () => {
      resolve(socket.getPeerX509Certificate()!.fingerprint256);
      socket.destroy();
    });
    socket.on('error', reject);
  });
}

async function until(check: () => Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

let upstream: RecordingUpstream;
let work: string;
let dir: string;
let gw: TestGateway;
let first: Pair;

/** As a certificate manager does: write aside, rename in (key first, then certificate). */
function install(pair: { cert: string; key: string }): void {
  writeFileSync(join(work, 'key.tmp'), pair.key);
  writeFileSync(join(work, 'cert.tmp'), pair.cert);
  renameSync(join(work, 'key.tmp'), join(dir, 'tls', 'key.pem'));
  renameSync(join(work, 'cert.tmp'), join(dir, 'tls', 'cert.pem'));
}

describe.skipIf(!hasOpenssl)('server.tls', () => {
  beforeAll(async () => {
    upstream = await startRecordingUpstream();
    work = mkdtempSync(join(tmpdir(), 'scopegate-tls-work-'));
    dir = mkdtempSync(join(tmpdir(), 'scopegate-tls-'));
    mkdirSync(join(dir, 'tls'));
    first = makePair(work, 'first');
    install(first);
    const yaml = await standardConfig({
      upstream: upstream.url,
      serverExtra: '  tls: { cert: ./tls/cert.pem, key: ./tls/key.pem }',
    });
    gw = await startTestGateway(yaml, { dir });
  });

  afterAll(async () => {
    await gw?.close();
    await upstream?.close();
  });

  it('both listeners speak HTTPS with the configured certificate; the upstream is told https', async () => {
    expect(gw.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(gw.adminUrl).toMatch(/^https:\/\//);
    expect(await served(gw.url)).toBe(first.fingerprint);
    expect(await served(gw.adminUrl!)).toBe(first.fingerprint);
    expect((await get(`${gw.url}/api/public/x`, first.cert)).status).toBe(200);
    expect(upstream.requests.at(-1)!.headers['x-forwarded-proto']).toBe('https');
    expect((await get(`${gw.adminUrl!}/healthz`, first.cert)).status).toBe(200);
  });

  it('a replaced pair is served without a restart (file watch)', async () => {
    const second = makePair(work, 'second');
    install(second);
    await until(async () => (await served(gw.url)) === second.fingerprint);
    expect(await served(gw.adminUrl!)).toBe(second.fingerprint);
    expect((await get(`${gw.url}/api/public/x`, second.cert)).status).toBe(200);
    await expect(get(`${gw.url}/api/public/x`, first.cert)).rejects.toThrow();
  });

  it('reload (SIGHUP) re-reads the pair; a pair that does not match keeps the previous one', async () => {
    const third = makePair(work, 'third');
    install(third);
    await gw.reload(); // at once, before the watch's debounce ends
    expect(await served(gw.url)).toBe(third.fingerprint);

    const fourth = makePair(work, 'fourth');
    install({ cert: fourth.cert, key: third.key }); // a renewal caught half-way
    await gw.reload();
    expect(await served(gw.url)).toBe(third.fingerprint);
    expect(gw.logs.some((l) => l.msg === 'TLS reload failed; keeping the previous certificate')).toBe(true);
    const metrics = await gw.metrics.metrics();
    expect(metrics).toMatch(/scopegate_file_reloads_total\{what="tls",reason="config_reload",result="ok"\} [1-9]/);
    expect(metrics).toMatch(/scopegate_file_reloads_total\{what="tls",reason="config_reload",result="failed"\} [1-9]/);
    expect(gw.rawLogs.join('\n')).not.toContain('PRIVATE KEY');
    expect((await get(`${gw.url}/api/public/x`, third.cert)).status).toBe(200);
  });

  it('a missing certificate file fails the start, naming it', async () => {
    const other = mkdtempSync(join(tmpdir(), 'scopegate-tls-missing-'));
    const yaml = await standardConfig({
      upstream: upstream.url,
      serverExtra: '  tls: { cert: ./nope/cert.pem, key: ./nope/key.pem }',
    });
    writeFileSync(join(other, 'gateway.yaml'), yaml);
    await expect(startGateway({ configPath: join(other, 'gateway.yaml'), listen: '127.0.0.1:0' })).rejects.toThrow(
      /nope\/cert\.pem: unreadable TLS certificate/,
    );
  });
});
