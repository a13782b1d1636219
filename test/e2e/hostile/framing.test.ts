/**
 * THREATS.md "HTTP framing and resources": request smuggling (CL.TE, TE.CL, TE.TE), odd request lines and targets,
 * oversized headers, pipelining tricks, slow and vanishing clients. Written on raw sockets: Node's client would clean
 * every one of these up. Each ends in a clean status for that request, the upstream sees nothing it must not, and
 * the next request on a fresh connection succeeds.
 */
import { connect } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { rawRequest, send } from '../../helpers/http.js';
import { expectNothingForwarded, rawJson, rawStatus, startHostile, type Hostile } from './harness.js';

let h: Hostile;
beforeAll(async () => {
  h = await startHostile();
});
afterAll(async () => {
  await h?.close();
});
beforeEach(() => {
  h.upstream.requests.length = 0;
});
afterEach(async () => {
  // whatever the case did, the gateway still answers the next request
  const res = await send(h.gw.url, 'GET', '/api/public/health-after');
  expect(res.status).toBe(200);
});

const req = (lines: string[], body = '') => `${lines.join('\r\n')}\r\n\r\n${body}`;
const POST = 'POST /api/public/x HTTP/1.1';

describe('smuggling and malformed framing: 400 (431 for huge headers), nothing forwarded', () => {
  const cases: [string, string, number?][] = [
    ['CL.TE', req([POST, 'Host: x', 'Content-Length: 6', 'Transfer-Encoding: chunked'], '0\r\n\r\nG')],
    ['TE.CL', req([POST, 'Host: x', 'Transfer-Encoding: chunked', 'Content-Length: 3'], '8\r\nSMUGGLED\r\n0\r\n\r\n')],
    ['two different Content-Length', req([POST, 'Host: x', 'Content-Length: 5', 'Content-Length: 6'], 'hello!')],
    ['two equal Content-Length', req([POST, 'Host: x', 'Content-Length: 5', 'Content-Length: 5'], 'hello')],
    ['Content-Length list "5, 5"', req([POST, 'Host: x', 'Content-Length: 5, 5'], 'hello')],
    ['Content-Length "+5"', req([POST, 'Host: x', 'Content-Length: +5'], 'hello')],
    ['Content-Length "-1"', req([POST, 'Host: x', 'Content-Length: -1'], 'hello')],
    ['Content-Length in hex', req([POST, 'Host: x', 'Content-Length: 0x5'], 'hello')],
    [
      'Transfer-Encoding: chunked twice (two fields)',
      req([POST, 'Host: x', 'Transfer-Encoding: chunked', 'Transfer-Encoding: chunked'], '0\r\n\r\n'),
    ],
    ['Transfer-Encoding: chunked, chunked', req([POST, 'Host: x', 'Transfer-Encoding: chunked, chunked'], '0\r\n\r\n')],
    ['Transfer-Encoding: gzip', req([POST, 'Host: x', 'Transfer-Encoding: gzip'], '0\r\n\r\n')],
    ['Transfer-Encoding: identity', req([POST, 'Host: x', 'Transfer-Encoding: identity'], '0\r\n\r\n')],
    ['Transfer-Encoding: xchunked', req([POST, 'Host: x', 'Transfer-Encoding: xchunked'], '0\r\n\r\n')],
    [
      'Transfer-Encoding with a space before the colon',
      req([POST, 'Host: x', 'Transfer-Encoding : chunked'], '0\r\n\r\n'),
    ],
    ['Transfer-Encoding obs-folded', req([POST, 'Host: x', 'Transfer-Encoding:', ' chunked'], '0\r\n\r\n')],
    ['obs-fold in any header', req(['GET /api/public/x HTTP/1.1', 'Host: x', 'X-Note: a', ' X-Auth-Client-Id: admin'])],
    ['bare LF line endings', 'GET /api/public/x HTTP/1.1\nHost: x\n\n'],
    ['bare CR inside a header', req(['GET /api/public/x HTTP/1.1', 'Host: x', 'X-Note: a\rb'])],
    ['invalid chunk size', req([POST, 'Host: x', 'Transfer-Encoding: chunked'], 'zz\r\nhello\r\n0\r\n\r\n')],
    [
      'chunk size overflowing 64 bits',
      req([POST, 'Host: x', 'Transfer-Encoding: chunked'], 'fffffffffffffffffff\r\nhello\r\n0\r\n\r\n'),
    ],
    ['absolute-form target', req(['GET http://internal.example/api/public/x HTTP/1.1', 'Host: x'])],
    ['asterisk-form target on GET', req(['GET * HTTP/1.1', 'Host: x'])],
    ['OPTIONS *', req(['OPTIONS * HTTP/1.1', 'Host: x'])],
    ['authority-form target', req(['GET internal.example:443 HTTP/1.1', 'Host: x'])],
    ['tab as request-line separator', req(['GET\t/api/public/x HTTP/1.1', 'Host: x'])],
    ['raw space inside the target', req(['GET /api/public/a /../../menu HTTP/1.1', 'Host: x'])],
    ['raw NUL in the target', req(['GET /api/public/\0 HTTP/1.1', 'Host: x'])],
    ['raw non-ASCII (overlong dot) in the target', req(['GET /api/public/\xc0\xae\xc0\xae/menu HTTP/1.1', 'Host: x'])],
    ['raw backslashes in the target', req(['GET /api/public\\..\\menu HTTP/1.1', 'Host: x'])],
    ['HTTP/2 connection preface', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 505],
    ['HTTP/1.1 without Host', req(['GET /api/public/x HTTP/1.1'])],
    ['header without a colon', req(['GET /api/public/x HTTP/1.1', 'Host: x', 'X-Note'])],
    ['headers over 16 KiB', req(['GET /api/public/x HTTP/1.1', 'Host: x', `X-Big: ${'a'.repeat(20_000)}`]), 431],
    [
      'many headers over 16 KiB in total',
      req([
        'GET /api/public/x HTTP/1.1',
        'Host: x',
        ...Array.from({ length: 400 }, (_, i) => `X-H${i}: ${'b'.repeat(50)}`),
      ]),
      431,
    ],
  ];
  // Targets Node parses but the gateway refuses (not a path): an ordinary 400 invalid_request, keep-alive is fine.
  const pathRefusals = new Set([
    'absolute-form target',
    'asterisk-form target on GET',
    'OPTIONS *',
    'raw backslashes in the target',
  ]);
  for (const [name, bytes, status] of cases) {
    it(name, async () => {
      const out = await rawRequest(h.gw.url, bytes);
      expect(rawStatus(out)).toBe(status ?? 400);
      // a refused framing closes the connection: nothing after it can be read as a second request
      if (!pathRefusals.has(name)) expect(out).toMatch(/connection: close/i);
      else expect(out).toMatch(/"error":"invalid_request"/);
      expectNothingForwarded(h);
    });
  }

  it('Transfer-Encoding: gzip, chunked: 400 bad_framing', async () => {
    const out = await rawRequest(h.gw.url, req([POST, 'Host: x', 'Transfer-Encoding: gzip, chunked'], '0\r\n\r\n'));
    expect(rawStatus(out)).toBe(400);
    expect(out).toMatch(/"error":"invalid_request"/);
    expectNothingForwarded(h);
  });

  // The gateway's own Transfer-Encoding refusal (checkFraming) answers 400 but keeps the connection open and lets
  // Node drain a body whose framing it just called unacceptable. Harmless while Node is the only parser, but a
  // framing error should end the connection. NOT FIXED (src/server/gateway.ts): in sendError, or right where
  // checkFraming fails, set `res.shouldKeepAlive = false` (and `Connection: close`) for reason bad_framing.
  it('a Transfer-Encoding refusal closes the connection', async () => {
    const out = await rawRequest(h.gw.url, req([POST, 'Host: x', 'Transfer-Encoding: gzip, chunked'], '0\r\n\r\n'));
    expect(out).toMatch(/connection: close/i);
  });
});

describe('framing that is accepted is forwarded exactly as parsed', () => {
  it('Transfer-Encoding: CHUNKED (case-insensitive) is chunked: one request upstream, the body intact', async () => {
    const out = await rawRequest(
      h.gw.url,
      req([POST, 'Host: x', 'Transfer-Encoding: CHUNKED', 'Connection: close'], '5\r\nhello\r\n0\r\n\r\n'),
    );
    expect(rawStatus(out)).toBe(200);
    expect(h.upstream.requests.map((r) => [r.method, r.url, r.body.toString()])).toEqual([
      ['POST', '/public/x', 'hello'],
    ]);
  });

  it('a request hidden in a Content-Length body stays body: the upstream sees one POST', async () => {
    const hidden = 'GET /api/menu HTTP/1.1\r\nHost: x\r\n\r\n';
    const out = await rawRequest(
      h.gw.url,
      req([POST, 'Host: x', `Content-Length: ${hidden.length}`, 'Connection: close'], hidden),
    );
    expect(rawStatus(out)).toBe(200);
    expect(h.upstream.requests.map((r) => [r.method, r.url, r.body.toString()])).toEqual([
      ['POST', '/public/x', hidden],
    ]);
  });

  it('pipelined requests are each decided on their own: public 200, protected 401', async () => {
    const out = await rawRequest(
      h.gw.url,
      `GET /api/public/x HTTP/1.1\r\nHost: x\r\n\r\nGET /api/menu HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
    );
    expect(out.match(/HTTP\/1\.1 \d{3}/g)).toEqual(['HTTP/1.1 200', 'HTTP/1.1 401']);
    expect(h.upstream.requests.map((r) => r.url)).toEqual(['/public/x']);
  });

  it('chunked trailers cannot smuggle an identity header', async () => {
    const out = await rawRequest(
      h.gw.url,
      req(
        [POST, 'Host: x', 'Transfer-Encoding: chunked', 'Connection: close'],
        '5\r\nhello\r\n0\r\nX-Auth-Client-Id: admin\r\n\r\n',
      ),
    );
    expect(rawStatus(out)).toBe(200);
    const r = h.upstream.requests[0]!;
    expect(r.headers['x-auth-client-id']).toBeUndefined();
  });

  it('Expect: 100-continue on a protected route without credentials: 401, body never forwarded', async () => {
    const out = await rawRequest(
      h.gw.url,
      req(
        ['POST /api/orders HTTP/1.1', 'Host: x', 'Expect: 100-continue', 'Content-Length: 5', 'Connection: close'],
        'hello',
      ),
    );
    expect(out).toMatch(/HTTP\/1\.1 401/);
    expectNothingForwarded(h);
  });
});

describe('slow and vanishing clients', () => {
  it('a client that sends headers byte by byte does not hold up anyone else', async () => {
    const socket = connect(Number(new URL(h.gw.url).port), '127.0.0.1');
    socket.on('error', () => undefined);
    socket.write('GET /api/public/slow HTTP/1.1\r\nHost: x\r\nX-Slow: ');
    const timer = setInterval(() => socket.write('a'), 50);
    try {
      const started = Date.now();
      const results = await Promise.all(Array.from({ length: 20 }, () => send(h.gw.url, 'GET', '/api/public/fast')));
      expect(results.map((r) => r.status)).toEqual(Array(20).fill(200));
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      clearInterval(timer);
      socket.destroy();
    }
    expect(h.upstream.requests.map((r) => r.url)).not.toContain('/public/slow');
  });

  it('a client that never finishes its headers gets 408 and its connection closed after headersTimeout (10 s)', async () => {
    const url = new URL(h.gw.url);
    const socket = connect(Number(url.port), url.hostname);
    socket.write('GET /api/public/x HTTP/1.1\r\nHost: x\r\n'); // no final CRLF: the headers never end
    let answer = '';
    socket.on('data', (d: Buffer) => (answer += d.toString('latin1')));
    const started = Date.now();
    await new Promise((resolve) => socket.on('close', resolve));
    expect(answer).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    // Node only enforces headersTimeout when it checks connections (30 s by default; the gateway checks every second)
    expect(Date.now() - started).toBeLessThan(20_000);
    expectNothingForwarded(h);
  }, 30_000);

  it('a client that vanishes mid-body: logged as client_closed, the gateway stays up', async () => {
    const socket = connect(Number(new URL(h.gw.url).port), '127.0.0.1');
    socket.on('error', () => undefined);
    await new Promise<void>((r) => socket.once('connect', () => r()));
    socket.write(req([POST, 'Host: x', 'Content-Length: 100000'], 'a'.repeat(1000)));
    await new Promise((r) => setTimeout(r, 100));
    socket.destroy();
    await new Promise((r) => setTimeout(r, 200));
    // the upstream never got a complete request: the recording upstream only records finished bodies
    expect(h.upstream.requests.filter((r) => r.body.length === 100000)).toEqual([]);
  });

  it('a client that vanishes mid-chunked-body on a protected route: never forwarded, gateway up', async () => {
    const socket = connect(Number(new URL(h.gw.url).port), '127.0.0.1');
    socket.on('error', () => undefined);
    await new Promise<void>((r) => socket.once('connect', () => r()));
    socket.write(
      req(['POST /api/orders HTTP/1.1', 'Host: x', 'Transfer-Encoding: chunked'], '3e8\r\n' + 'a'.repeat(500)),
    );
    await new Promise((r) => setTimeout(r, 100));
    socket.destroy();
    await new Promise((r) => setTimeout(r, 100));
    expectNothingForwarded(h);
  });

  it('a hundred connections opened and dropped at once leave the gateway answering', async () => {
    const port = Number(new URL(h.gw.url).port);
    await Promise.all(
      Array.from(
        { length: 100 },
        (_, i) =>
          new Promise<void>((resolve) => {
            const s = connect(port, '127.0.0.1', () => {
              s.write(
                i % 2
                  ? 'GET /api/public/x HTTP/1.1\r\nHo'
                  : 'POST /api/public/x HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nab',
              );
              setTimeout(() => {
                s.destroy();
                resolve();
              }, 10);
            });
            s.on('error', () => resolve());
          }),
      ),
    );
  });
});

describe('request lines of other HTTP versions: 505 (issue 11)', () => {
  const lines: [string, string][] = [
    ['HTTP/2.0', 'GET /api/public/x HTTP/2.0'],
    ['HTTP/0.9 with a version', 'GET /api/public/x HTTP/0.9'],
    ['HTTP/0.9 simple request (no version)', 'GET /api/public/x'],
    ['HTTP/3.0', 'GET /api/public/x HTTP/3.0'],
    ['HTTP/2.0 POST to the token endpoint', 'POST /oauth/token HTTP/2.0'],
  ];
  for (const [name, line] of lines) {
    it(`${name}: 505, connection closed, nothing forwarded`, async () => {
      const out = await rawRequest(h.gw.url, req([line, 'Host: x', 'Content-Length: 0']));
      expect(rawStatus(out)).toBe(505);
      expect(out).toMatch(/connection: close/i);
      expectNothingForwarded(h);
    });
  }

  it('HTTP/1.0 is still served', async () => {
    const out = await rawRequest(h.gw.url, req(['GET /api/public/x HTTP/1.0', 'Host: x']));
    expect(rawStatus(out)).toBe(200);
    expect(h.upstream.requests).toHaveLength(1);
  });
});

describe('many header fields: 431 above 200 (issue 11: Node keeps only the first 1000)', () => {
  const filler = (n: number) => Array.from({ length: n }, (_, i) => `a${i}: 1`);

  it('1,100 short fields before a valid Bearer token: 431, nothing forwarded (a Node upstream would drop X-Auth-*)', async () => {
    const out = await rawRequest(
      h.gw.url,
      req(['GET /api/menu/1 HTTP/1.1', 'Host: x', ...filler(1100), `Authorization: Bearer ${h.posToken}`]),
    );
    expect(rawStatus(out)).toBe(431);
    expect(rawJson(out).error).toBe('invalid_request');
    expect(out).toMatch(/connection: close/i);
    expectNothingForwarded(h);
  });

  it('a valid token followed by 999 fields: 431 too', async () => {
    const out = await rawRequest(
      h.gw.url,
      req(['GET /api/menu/1 HTTP/1.1', 'Host: x', `Authorization: Bearer ${h.posToken}`, ...filler(999)]),
    );
    expect(rawStatus(out)).toBe(431);
    expectNothingForwarded(h);
  });

  it('201 fields: 431; 200 fields (Host included) are forwarded with the identity headers', async () => {
    const over = await rawRequest(
      h.gw.url,
      req(['GET /api/menu/1 HTTP/1.1', 'Host: x', `Authorization: Bearer ${h.posToken}`, ...filler(199)]),
    );
    expect(rawStatus(over)).toBe(431);
    expectNothingForwarded(h);
    const ok = await rawRequest(
      h.gw.url,
      req([
        'GET /api/menu/1 HTTP/1.1',
        'Host: x',
        `Authorization: Bearer ${h.posToken}`,
        'Connection: close',
        ...filler(197),
      ]),
    );
    expect(rawStatus(ok)).toBe(200);
    expect(h.upstream.requests).toHaveLength(1);
    expect(h.upstream.requests[0]!.headers['x-auth-client-id']).toBe('pos');
  });

  it('the token endpoint refuses them as well', async () => {
    const out = await rawRequest(
      h.gw.url,
      req(['POST /oauth/token HTTP/1.1', 'Host: x', 'Content-Length: 0', ...filler(300)]),
    );
    expect(rawStatus(out)).toBe(431);
  });
});
