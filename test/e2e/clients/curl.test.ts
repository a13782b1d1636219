/**
 * curl, as a partner types it: `curl -u id:secret -d grant_type=client_credentials TOKEN_URL`, then the Bearer call.
 * curl's -u sends the id and secret as they are (no form-encoding), so the client has a secret of unreserved
 * characters. Skipped, with the reason, when curl is not installed.
 */
import { execFile, spawnSync } from 'node:child_process';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PLAIN, ROUTES, startClientsGateway, tamper, type ClientsGateway } from './harness.js';

const probe = spawnSync('curl', ['--version'], { encoding: 'utf8' });
const curlMissing = probe.status !== 0;
const curlVersion = curlMissing ? 'curl not installed: skipped' : probe.stdout.split('\n')[0]!;
if (curlMissing) console.warn('curl tests skipped: curl is not installed (apt-get install curl)');

interface CurlResult {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Runs curl with `-sS -i` (status line and headers in the output) without blocking the in-process gateway. */
function curl(args: string[]): Promise<CurlResult> {
  return new Promise((resolve, reject) => {
    execFile('curl', ['-sS', '-i', ...args], { encoding: 'utf8', timeout: 15_000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`curl failed: ${stderr || err.message}`));
      const split = stdout.indexOf('\r\n\r\n');
      const head = stdout.slice(0, split).split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of head.slice(1)) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
      }
      resolve({ status: Number(head[0]!.split(' ')[1]), headers, body: stdout.slice(split + 4) });
    });
  });
}

let env: ClientsGateway;

describe.skipIf(curlMissing)(`curl (${curlVersion})`, () => {
  beforeAll(async () => {
    env = await startClientsGateway();
  });
  afterAll(async () => {
    await env?.close();
  });
  beforeEach(() => {
    env.upstream.requests.length = 0;
  });

  async function token(): Promise<Record<string, unknown>> {
    const res = await curl([
      '-u',
      `${PLAIN.id}:${PLAIN.secret}`,
      '-d',
      'grant_type=client_credentials',
      '-d',
      'scope=menu:read',
      `${env.url}/oauth/token`,
    ]);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.headers['cache-control']).toBe('no-store');
    return JSON.parse(res.body) as Record<string, unknown>;
  }

  it('gets a token with -u id:secret and calls a protected route with it', async () => {
    const body = await token();
    expect(body).toMatchObject({ token_type: 'Bearer', scope: 'menu:read', expires_in: 1800 });
    const res = await curl([
      '-H',
      `Authorization: Bearer ${body.access_token as string}`,
      `${env.url}${ROUTES.allowed}`,
    ]);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ upstream: true });
    expect(env.upstream.requests).toHaveLength(1);
    expect(env.upstream.requests[0]!.headers['x-auth-client-id']).toBe(PLAIN.id);
  });

  it('shows the 403 and 401 challenges', async () => {
    const access = (await token()).access_token as string;
    const forbidden = await curl(['-H', `Authorization: Bearer ${access}`, `${env.url}${ROUTES.forbidden}`]);
    expect(forbidden.status).toBe(403);
    expect(forbidden.headers['www-authenticate']).toContain('error="insufficient_scope"');
    expect(JSON.parse(forbidden.body)).toMatchObject({ error: 'insufficient_scope' });

    const refused = await curl(['-H', `Authorization: Bearer ${tamper(access)}`, `${env.url}${ROUTES.allowed}`]);
    expect(refused.status).toBe(401);
    expect(refused.headers['www-authenticate']).toMatch(/^Bearer realm="restaurant-api", error="invalid_token"/);

    const none = await curl([`${env.url}${ROUTES.allowed}`]);
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toContain(
      `resource_metadata="${env.url}/.well-known/oauth-protected-resource"`,
    );

    const wrong = await curl([
      '-u',
      `${PLAIN.id}:wrong-secret-000000000`,
      '-d',
      'grant_type=client_credentials',
      `${env.url}/oauth/token`,
    ]);
    expect(wrong.status).toBe(401);
    expect(wrong.headers['www-authenticate']).toBe('Basic realm="restaurant-api"');
    expect(JSON.parse(wrong.body)).toMatchObject({ error: 'invalid_client' });
    expect(env.upstream.requests).toHaveLength(0);
  });
});
