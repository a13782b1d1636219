/** SPEC.md 7 "Reload", in process: `reload()` validates, swaps atomically and keeps the old config when invalid. */
import { writeFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { hashSecret } from '../../../src/auth/secret-hash.js';
import { ConfigError } from '../../../src/config/config-error.js';
import { SECRETS, standardConfig } from '../../helpers/fixtures.js';
import { getToken, send } from '../../helpers/http.js';
import { startRecordingUpstream, type RecordingUpstream } from '../../helpers/recording-upstream.js';
import { startTestGateway, type TestGateway } from '../../helpers/test-gateway.js';

const TEMP_SECRET = 'temp-secret-with-enough-entropy-42';
let upstream: RecordingUpstream;
let gw: TestGateway;
let full: string;
let posToken: string;

const tempClient = (hash: string) => `
  - id: temp
    secret_hash: "${hash}"
    scopes: [menu:read]
`;
const slowRoute = `
  - path: /api/slow/**
    upstream: restaurant
    auth: none
`;

beforeAll(async () => {
  upstream = await startRecordingUpstream();
  full = await standardConfig({
    upstream: upstream.url,
    extraClients: tempClient(await hashSecret(TEMP_SECRET)),
    extraRoutes: slowRoute,
  });
  gw = await startTestGateway(full);
  posToken = (await getToken(gw.url, 'pos', SECRETS.posSecret)).access_token as string;
});
afterAll(async () => {
  await gw?.close();
  await upstream?.close();
});
beforeEach(async () => {
  writeFileSync(gw.configPath, full);
  await gw.reload();
});

const temp = ['X-Client-Id', 'temp', 'X-Client-Secret', TEMP_SECRET];
const bearer = () => ['Authorization', `Bearer ${posToken}`];

describe('a changed file takes effect on the next request', () => {
  it('a removed client is refused at once (its cached secret check is dropped)', async () => {
    expect((await send(gw.url, 'GET', '/api/menu', temp)).status).toBe(200);
    writeFileSync(gw.configPath, full.replace(/\n {2}- id: temp[\s\S]*?scopes: \[menu:read\]\n/, '\n'));
    await gw.reload();
    expect(gw.runtime().compiled.clients.has('temp')).toBe(false);
    const res = await send(gw.url, 'GET', '/api/menu', temp);
    expect(res.status).toBe(401);
    expect(res.json().error).toBe('invalid_client');
  });

  it('a removed scope stops working for tokens issued before the reload', async () => {
    const post = () => send(gw.url, 'POST', '/api/orders', [...bearer(), 'Content-Type', 'application/json'], '{}');
    expect((await post()).status).toBe(200);
    writeFileSync(
      gw.configPath,
      full.replace('scopes: [menu:read, orders:read, orders:write]', 'scopes: [menu:read, orders:read]'),
    );
    await gw.reload();
    const res = await post();
    expect(res.status).toBe(403);
    expect(res.headers['www-authenticate']).toContain('scope="orders:write"');
    expect((await send(gw.url, 'GET', '/api/orders', bearer())).status).toBe(200);
  });

  it('a removed route is 404 on the next request', async () => {
    expect((await send(gw.url, 'GET', '/api/slow/x')).status).toBe(200);
    writeFileSync(gw.configPath, full.replace(slowRoute, ''));
    await gw.reload();
    expect((await send(gw.url, 'GET', '/api/slow/x')).status).toBe(404);
  });
});

describe('an invalid file', () => {
  it('is refused with file:line:col and the old config keeps serving', async () => {
    const before = gw.runtime();
    writeFileSync(gw.configPath, full.replace('scopes: [menu:read, orders:read, orders:write]', 'scops: [menu:read]'));
    const err = await gw.reload().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toMatch(/gateway\.yaml:\d+:\d+ clients\[0\]\.scops: unknown key "scops"/);
    expect(gw.runtime()).toBe(before);
    expect((await send(gw.url, 'GET', '/api/menu', temp)).status).toBe(200);
    expect((await send(gw.url, 'GET', '/api/orders', bearer())).status).toBe(200);
  });

  it('broken YAML is refused the same way', async () => {
    writeFileSync(gw.configPath, 'server: [\n');
    await expect(gw.reload()).rejects.toThrow(/gateway\.yaml:\d+:\d+/);
    expect((await send(gw.url, 'GET', '/api/menu', temp)).status).toBe(200);
  });
});

describe('requests in flight', () => {
  it('finish on the config they started with', async () => {
    let release: (() => void) | undefined;
    upstream.respond((_req, res: ServerResponse) => {
      release = () => res.writeHead(200, { 'Content-Type': 'text/plain' }).end('old config');
    });
    try {
      const inFlight = send(gw.url, 'GET', '/api/slow/long');
      await waitFor(() => release !== undefined);
      writeFileSync(gw.configPath, full.replace(slowRoute, ''));
      await gw.reload();
      expect((await send(gw.url, 'GET', '/api/slow/next')).status).toBe(404);
      release!();
      const res = await inFlight;
      expect(res.status).toBe(200);
      expect(res.body).toBe('old config');
    } finally {
      upstream.respond(undefined);
    }
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}
