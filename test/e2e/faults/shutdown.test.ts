/**
 * Issue 10, item 6: exit always ends. SIGTERM completes when whoever read stdout is gone (EPIPE), and sockets that
 * never sent a request (or sit idle) do not hold the drain.
 */
import { spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { standardConfig } from '../../helpers/fixtures.js';
import { send } from '../../helpers/http.js';
import { startRecordingUpstream, type RecordingUpstream } from '../../helpers/recording-upstream.js';
import { startTestGateway, type TestGateway } from '../../helpers/test-gateway.js';
import { CLI, writeConfigDir } from '../ops/cli.js';

let upstream: RecordingUpstream;
let yaml: string;
const sockets: Socket[] = [];
const gateways: TestGateway[] = [];

beforeAll(async () => {
  upstream = await startRecordingUpstream();
  yaml = await standardConfig({ upstream: upstream.url });
});
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const gw of gateways.splice(0)) await gw.close().catch(() => undefined);
});
afterAll(async () => {
  await upstream?.close();
});

function openSilentSocket(base: string): Promise<Socket> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname, () => resolve(socket));
    socket.on('error', () => undefined);
    socket.once('error', reject);
    sockets.push(socket);
  });
}

describe('scopegate start with its stdout reader gone (EPIPE)', () => {
  it('SIGTERM still drains and exits 0, within seconds', { timeout: 60_000 }, async () => {
    const { configPath } = writeConfigDir(yaml);
    const times: number[] = [];
    for (let run = 0; run < 3; run++) {
      const child = spawn(process.execPath, [CLI, 'start', '--config', configPath], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
        child.once('exit', (code, signal) => resolve({ code, signal })),
      );
      await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
      child.stdout.destroy(); // the reader is gone: every later write to stdout fails with EPIPE
      await new Promise((r) => setTimeout(r, 100));
      const t = performance.now();
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 40_000);
      const result = await exited;
      clearTimeout(killer);
      times.push(performance.now() - t);
      expect(result, stderr).toEqual({ code: 0, signal: null });
    }
    console.log(
      'SIGTERM to exit with stdout closed (ms):',
      times.map((t) => Math.round(t)),
    );
    expect(Math.max(...times)).toBeLessThan(5_000);
  });
});

describe('drain', () => {
  it('a connected socket that never sends a request, and an idle keep-alive one, do not hold the shutdown', async () => {
    const gw = await startTestGateway(yaml);
    gateways.push(gw);
    await openSilentSocket(gw.url);
    await openSilentSocket(gw.adminUrl!);
    const keepAlive = await openSilentSocket(gw.url);
    keepAlive.write(`GET /api/public/x HTTP/1.1\r\nHost: x\r\n\r\n`);
    await new Promise<void>((resolve) => keepAlive.once('data', () => resolve()));
    const t = performance.now();
    await gw.close();
    const ms = performance.now() - t;
    console.log(`close() with a silent and an idle socket open: ${ms.toFixed(0)} ms`);
    expect(ms).toBeLessThan(1_000);
  });

  it('a request in flight still finishes before the sockets close', async () => {
    const gw = await startTestGateway(yaml);
    gateways.push(gw);
    await openSilentSocket(gw.url);
    let release: (() => void) | undefined;
    upstream.respond((_req, res) => {
      release = () => res.writeHead(200, { 'Content-Type': 'text/plain' }).end('finished');
    });
    const inFlight = send(gw.url, 'GET', '/api/public/slow');
    while (!release) await new Promise((r) => setTimeout(r, 10));
    const closing = gw.close();
    await new Promise((r) => setTimeout(r, 200));
    release();
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(res.body).toBe('finished');
    await closing;
    upstream.respond(undefined);
  });
});
