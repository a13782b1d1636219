/**
 * Behind a load balancer (issue 12 item 7, SPEC.md 9): `server.trusted_proxies`. Gateway T trusts 127.0.0.1 (it
 * stands for the load balancer), gateway U trusts nobody. What the upstream receives in X-Forwarded-For, what the
 * log line names as the client, and that failed-auth limits count per forwarded client: two clients behind one load
 * balancer are limited separately, and a header from an untrusted peer moves nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SECRETS, standardConfig } from '../../helpers/fixtures.js';
import { send, type RawResponse } from '../../helpers/http.js';
import { startRecordingUpstream, type RecordingUpstream } from '../../helpers/recording-upstream.js';
import { startTestGateway, type TestGateway } from '../../helpers/test-gateway.js';

let upstream: RecordingUpstream;
let trusting: TestGateway;
let untrusting: TestGateway;

beforeAll(async () => {
  upstream = await startRecordingUpstream();
  const limit = '  failed_auth_limit: 3/h\n';
  trusting = await startTestGateway(
    await standardConfig({ upstream: upstream.url, serverExtra: `${limit}  trusted_proxies: [127.0.0.1, "::1"]` }),
  );
  untrusting = await startTestGateway(await standardConfig({ upstream: upstream.url, serverExtra: limit }));
});

afterAll(async () => {
  await Promise.all([trusting?.close(), untrusting?.close()]);
  await upstream?.close();
});

/** A request through "the load balancer" (127.0.0.1, or another loopback address with `from`). */
function via(gw: TestGateway, path: string, headers: string[], from?: string, method = 'GET', body?: string) {
  return send(gw.url, method, path, headers, body, from);
}

async function forwardedFor(gw: TestGateway, headers: string[], from?: string): Promise<unknown> {
  const seen = upstream.requests.length;
  expect((await via(gw, '/api/public/x', headers, from)).status).toBe(200);
  expect(upstream.requests).toHaveLength(seen + 1);
  return upstream.requests.at(-1)!.headers['x-forwarded-for'];
}

const lastLog = (gw: TestGateway) => gw.logs.filter((l) => l.msg === 'request').at(-1)!;

describe('X-Forwarded-For to the upstream', () => {
  it('a trusted peer: the client it names, then the peer; spoofed hops left of the client are dropped', async () => {
    expect(await forwardedFor(trusting, ['X-Forwarded-For', '203.0.113.5'])).toBe('203.0.113.5, 127.0.0.1');
    expect(lastLog(trusting).client_address).toBe('203.0.113.5');
    // the client claimed 6.6.6.6 and 10.1.1.1; the load balancer appended the address it saw
    expect(
      await forwardedFor(trusting, ['X-Forwarded-For', '6.6.6.6, 10.1.1.1', 'X-Forwarded-For', '203.0.113.5']),
    ).toBe('203.0.113.5, 127.0.0.1');
    // RFC 7239 Forwarded, when the load balancer sets only that
    expect(await forwardedFor(trusting, ['Forwarded', 'for=6.6.6.6, for="[2001:db8::7]:4711";proto=https'])).toBe(
      '2001:db8::7, 127.0.0.1',
    );
    expect(lastLog(trusting).client_address).toBe('2001:db8::7');
    // nothing forwarded: the peer is the client
    expect(await forwardedFor(trusting, [])).toBe('127.0.0.1');
  });

  it('a peer outside trusted_proxies, or a gateway that trusts nobody: the peer, whatever it sent', async () => {
    expect(await forwardedFor(trusting, ['X-Forwarded-For', '203.0.113.5'], '127.0.0.2')).toBe('127.0.0.2');
    expect(lastLog(trusting).client_address).toBe('127.0.0.2');
    expect(await forwardedFor(untrusting, ['X-Forwarded-For', '203.0.113.5', 'Forwarded', 'for=1.2.3.4'])).toBe(
      '127.0.0.1',
    );
    expect(lastLog(untrusting).client_address).toBe('127.0.0.1');
  });
});

describe('failed-auth limits per forwarded client (3/h)', () => {
  const wrongKey = (i: number) => ['X-Api-Key', `wrong-key-${i}-0123456789abcdefghij`];
  const menu = ['X-Api-Key', SECRETS.menuKey];
  const xff = (client: string) => ['X-Forwarded-For', client];
  const statuses = (list: RawResponse[]) => list.map((r) => r.status);

  it('two clients behind one load balancer are limited separately', async () => {
    const a = [];
    for (let i = 0; i < 4; i++) a.push(await via(trusting, '/api/menu/x', [...xff('198.51.100.1'), ...wrongKey(i)]));
    expect(statuses(a)).toEqual([401, 401, 401, 429]);
    // client a is now refused even with a good key; client b, behind the same load balancer, is not
    expect((await via(trusting, '/api/menu/x', [...xff('198.51.100.1'), ...menu])).status).toBe(429);
    expect((await via(trusting, '/api/menu/x', [...xff('198.51.100.2'), ...menu])).status).toBe(200);
    // ... and neither is the load balancer's own address
    expect((await via(trusting, '/api/menu/x', menu)).status).toBe(200);
  });

  it('failed client authentication at the token endpoint counts per forwarded client too', async () => {
    const token = (client: string, id: string, secret: string) =>
      via(
        trusting,
        '/oauth/token',
        [...xff(client), 'Content-Type', 'application/x-www-form-urlencoded'],
        undefined,
        'POST',
        `grant_type=client_credentials&client_id=${id}&client_secret=${secret}`,
      );
    const c = [];
    for (let i = 0; i < 4; i++) c.push(await token('198.51.100.3', `nobody-${i}`, 'wrong-secret-0123456789'));
    expect(statuses(c)).toEqual([401, 401, 401, 429]);
    expect((await token('198.51.100.3', 'pos', SECRETS.posSecret)).status).toBe(429);
    expect((await token('198.51.100.4', 'pos', SECRETS.posSecret)).status).toBe(200);
  });

  it('a spoofed header from an untrusted peer is ignored: every failure counts against the peer', async () => {
    const u = [];
    for (let i = 0; i < 4; i++)
      u.push(await via(untrusting, '/api/menu/x', [...xff(`198.51.100.${10 + i}`), ...wrongKey(i)]));
    expect(statuses(u)).toEqual([401, 401, 401, 429]);
    expect((await via(untrusting, '/api/menu/x', [...xff('198.51.100.99'), ...menu])).status).toBe(429);
    // on the trusting gateway, a peer outside trusted_proxies cannot spoof its way out either
    const t = [];
    for (let i = 0; i < 4; i++)
      t.push(await via(trusting, '/api/menu/x', [...xff(`198.51.100.${20 + i}`), ...wrongKey(i)], '127.0.0.3'));
    expect(statuses(t)).toEqual([401, 401, 401, 429]);
    expect((await via(trusting, '/api/menu/x', [...xff('198.51.100.98'), ...menu], '127.0.0.3')).status).toBe(429);
  });
});
