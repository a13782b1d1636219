/**
 * `scopegate start` as operators run it (SPEC.md 1 and 7), from the built CLI: reload on file change and SIGHUP, an
 * invalid file logged with file:line:col, exit codes for a bad config and a port in use, SIGTERM drains then exits 0.
 */
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import type { ServerResponse } from 'node:http';
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
  yaml = await standardConfig({ upstream: upstream.url });
});
afterEach(async () => {
  for (const cli of running.splice(0)) {
    if (cli.child.exitCode === null && cli.child.signalCode === null) {
      cli.kill('SIGKILL');
      await cli.exited;
    }
  }
  upstream.respond(undefined);
});
afterAll(async () => {
  await upstream?.close();
});

async function start(text: string): Promise<{ cli: RunningCli; url: string; configPath: string }> {
  const { configPath } = writeConfigDir(text);
  const cli = startCli(configPath);
  running.push(cli);
  const listening = await cli.waitForLog((l) => l.msg === 'listening');
  return { cli, url: listening.url as string, configPath };
}

const posSecret = ['X-Client-Id', 'pos', 'X-Client-Secret', SECRETS.posSecret];
const withoutPosOrders = () => yaml.replace('scopes: [menu:read, orders:read, orders:write]', 'scopes: [menu:read]');

describe('reload', () => {
  it('a changed file is picked up by the file watch; an invalid one is logged with file:line:col and ignored', async () => {
    const { cli, url, configPath } = await start(yaml);
    expect((await send(url, 'GET', '/api/orders', posSecret)).status).toBe(200);

    writeFileSync(configPath, withoutPosOrders());
    await cli.waitForLog((l) => l.msg === 'config reloaded' && l.reason === 'file_changed');
    expect((await send(url, 'GET', '/api/orders', posSecret)).status).toBe(403);

    writeFileSync(
      configPath,
      withoutPosOrders().replace('realm: restaurant-api', 'realm: restaurant-api\n  relam: typo'),
    );
    const failed = await cli.waitForLog((l) => l.msg === 'config reload failed; keeping the previous config');
    expect(failed.level).toBe('error');
    expect((failed.problems as string[])[0]).toMatch(/gateway\.yaml:\d+:\d+ server\.relam: unknown key "relam"/);
    expect((await send(url, 'GET', '/api/orders', posSecret)).status).toBe(403);
    expect((await send(url, 'GET', '/api/menu', posSecret)).status).toBe(200);
  });

  it('SIGHUP reloads the file', async () => {
    const { cli, url, configPath } = await start(yaml);
    expect((await send(url, 'GET', '/api/orders', posSecret)).status).toBe(200);
    writeFileSync(configPath, withoutPosOrders());
    cli.kill('SIGHUP'); // before the watch's debounce ends
    await cli.waitForLog((l) => l.msg === 'config reloaded' && l.reason === 'sighup');
    expect((await send(url, 'GET', '/api/orders', posSecret)).status).toBe(403);
  });

  it('changes that need a restart are named in a warning', async () => {
    const { cli, configPath } = await start(yaml);
    writeFileSync(configPath, yaml.replace('store: sqlite:./data/state.db', 'store: "memory:"'));
    const warning = await cli.waitForLog((l) => l.msg === 'these changes apply only after a restart');
    expect(warning.settings).toEqual(['store']);
  });
});

describe('exit codes', () => {
  it('a bad config: non-zero, file:line:col on stderr', () => {
    const { configPath } = writeConfigDir(yaml.replace('timeout: 2s', 'timeout: soon'));
    const r = runCli(['start', '--config', configPath]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/gateway\.yaml:\d+:\d+ upstreams\.restaurant\.timeout: "soon" is not a duration/);
    expect(r.stdout).not.toContain('listening');
  });

  it('a port in use: non-zero and a clear message', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    try {
      const { configPath } = writeConfigDir(yaml.replace('listen: 127.0.0.1:0', `listen: 127.0.0.1:${port}`));
      const r = runCli(['start', '--config', configPath]);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`cannot listen on 127.0.0.1:${port}: the address is already in use`);
    } finally {
      blocker.close();
    }
  });

  it('SIGTERM drains requests in flight, then exits 0', async () => {
    const { cli, url } = await start(yaml);
    let release: (() => void) | undefined;
    upstream.respond((_req, res: ServerResponse) => {
      release = () => res.writeHead(200, { 'Content-Type': 'text/plain' }).end('finished');
    });
    const inFlight = send(url, 'GET', '/api/public/slow');
    while (!release) await new Promise((r) => setTimeout(r, 10));
    cli.kill('SIGTERM');
    await cli.waitForLog((l) => l.msg === 'draining');
    // No new connections once draining (refused, or reset when the connect raced the close).
    await expect(send(url, 'GET', '/api/public/other')).rejects.toThrow(/ECONNREFUSED|ECONNRESET/);
    release();
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(res.body).toBe('finished');
    expect(await cli.exited).toEqual({ code: 0, signal: null });
    expect(cli.logs.some((l) => l.msg === 'stopped')).toBe(true);
  });
});
