/**
 * THREATS.md "The token endpoint": RFC 6749 to the letter. Form body only, each parameter once, one client
 * authentication method, Basic values form-urlencoded before base64 (2.3.1), failed Basic answered with a Basic
 * challenge, no-store everywhere, unknown client and wrong secret indistinguishable, refresh rotation with replay
 * detection. None of these requests may mint a token, and none reaches the upstream.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { send, type RawResponse } from '../../helpers/http.js';
import {
  SECRETS,
  expectError,
  expectNothingForwarded,
  expectNotLogged,
  rawStatus,
  startHostile,
  type Hostile,
} from './harness.js';
import { rawRequest } from '../../helpers/http.js';

let h: Hostile;
beforeAll(async () => {
  h = await startHostile();
});
afterAll(async () => {
  expectNotLogged(h.gw, [SECRETS.posSecret, SECRETS.bookingSecret, basicOf('pos', SECRETS.posSecret).slice(6)]);
  await h?.close();
});
beforeEach(() => {
  h.upstream.requests.length = 0;
});

const FORM = ['Content-Type', 'application/x-www-form-urlencoded'];
const enc = (s: string) => encodeURIComponent(s);
function basicOf(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${enc(id)}:${enc(secret)}`).toString('base64')}`;
}
const token = (headers: string[], body: string | Buffer, path = '/oauth/token'): Promise<RawResponse> =>
  send(h.gw.url, 'POST', path, headers, body);
const POS_BODY = `client_id=pos&client_secret=${enc(SECRETS.posSecret)}`;

function expectTokenError(res: RawResponse, status: number, code: string) {
  expectError(res, status, code);
  expect(res.body).not.toContain('access_token');
  expectNothingForwarded(h);
}

describe('the control requests succeed', () => {
  it('Basic and body credentials both mint a token', async () => {
    expect(
      (await token([...FORM, 'Authorization', basicOf('pos', SECRETS.posSecret)], 'grant_type=client_credentials'))
        .status,
    ).toBe(200);
    expect((await token(FORM, `grant_type=client_credentials&${POS_BODY}`)).status).toBe(200);
  });

  it('Basic with every character percent-encoded (openid-client, oauth4webapi) works', async () => {
    const all = (s: string) =>
      [...Buffer.from(s)].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');
    const basic = `Basic ${Buffer.from(`${all('pos')}:${all(SECRETS.posSecret)}`).toString('base64')}`;
    expect((await token([...FORM, 'Authorization', basic], 'grant_type=client_credentials')).status).toBe(200);
  });
});

describe('parameters', () => {
  const cases: [string, string][] = [
    ['grant_type repeated', `grant_type=client_credentials&grant_type=client_credentials&${POS_BODY}`],
    ['grant_type repeated with another value', `grant_type=client_credentials&grant_type=refresh_token&${POS_BODY}`],
    ['client_id repeated', `grant_type=client_credentials&${POS_BODY}&client_id=booking`],
    ['client_secret repeated', `grant_type=client_credentials&${POS_BODY}&client_secret=x`],
    ['scope repeated', `grant_type=client_credentials&scope=menu:read&scope=orders:write&${POS_BODY}`],
    [
      'repeated through different encodings of the name',
      `grant_type=client_credentials&${POS_BODY}&%63lient_id=booking`,
    ],
    ['grant_type missing', POS_BODY],
    ['client_secret without client_id', `grant_type=client_credentials&client_secret=${enc(SECRETS.posSecret)}`],
  ];
  for (const [name, body] of cases) {
    it(`400 invalid_request: ${name}`, async () => {
      expectTokenError(await token(FORM, body), 400, 'invalid_request');
    });
  }

  const grants = [
    'password',
    'authorization_code',
    'implicit',
    'urn:ietf:params:oauth:grant-type:jwt-bearer',
    'CLIENT_CREDENTIALS',
    'client_credentials ',
  ];
  for (const grant of grants) {
    it(`400 unsupported_grant_type: ${JSON.stringify(grant)}`, async () => {
      expectTokenError(await token(FORM, `grant_type=${enc(grant)}&${POS_BODY}`), 400, 'unsupported_grant_type');
    });
  }

  it('a scope the client does not hold: invalid_scope', async () => {
    expectTokenError(
      await token(FORM, `grant_type=client_credentials&scope=menu:write&${POS_BODY}`),
      400,
      'invalid_scope',
    );
    expectTokenError(
      await token(FORM, `grant_type=client_credentials&scope=MENU:READ&${POS_BODY}`),
      400,
      'invalid_scope',
    );
  });

  it('a tenant the client may not act for: invalid_scope', async () => {
    const body = `grant_type=client_credentials&organization_id=rest-hamburg&client_id=booking&client_secret=${enc(SECRETS.bookingSecret)}`;
    const res = await token(FORM, body);
    expect(res.status).toBe(400);
    expect(res.body).not.toContain('access_token');
  });
});

describe('media type and size', () => {
  const types: [string, string[]][] = [
    ['application/json', ['Content-Type', 'application/json']],
    ['text/plain', ['Content-Type', 'text/plain']],
    ['multipart/form-data', ['Content-Type', 'multipart/form-data; boundary=x']],
    ['no Content-Type', []],
    ['form type as a prefix of another', ['Content-Type', 'application/x-www-form-urlencodedx']],
  ];
  for (const [name, headers] of types) {
    it(`400 invalid_request: ${name}`, async () => {
      expectTokenError(await token(headers, `grant_type=client_credentials&${POS_BODY}`), 400, 'invalid_request');
    });
  }

  it('a body over 64 KiB with Content-Length: 413 before reading it', async () => {
    const res = await token(FORM, `grant_type=client_credentials&${POS_BODY}&pad=${'a'.repeat(70 * 1024)}`);
    expect(res.status).toBe(413);
    expect(res.body).not.toContain('access_token');
  });

  it('a chunked body growing over 64 KiB: 413', async () => {
    const chunk = 'a'.repeat(16 * 1024);
    const chunks = Array.from({ length: 6 }, () => `${chunk.length.toString(16)}\r\n${chunk}\r\n`).join('');
    const out = await rawRequest(
      h.gw.url,
      `POST /oauth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n${chunks}0\r\n\r\n`,
    );
    expect(rawStatus(out)).toBe(413);
  });

  it('a Content-Length that promises more than is sent: no token, the gateway answers others meanwhile', async () => {
    const pending = rawRequest(
      h.gw.url,
      `POST /oauth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\ngrant_type=client_credentials&${POS_BODY}`,
      300,
    );
    expect((await send(h.gw.url, 'GET', '/api/public/x')).status).toBe(200);
    expect(await pending).not.toContain('access_token');
  });
});

describe('client authentication', () => {
  it('Basic and body secret at once: 400 invalid_request', async () => {
    expectTokenError(
      await token(
        [...FORM, 'Authorization', basicOf('pos', SECRETS.posSecret)],
        `grant_type=client_credentials&${POS_BODY}`,
      ),
      400,
      'invalid_request',
    );
  });

  it('Basic for one client and client_id of another in the body: 400', async () => {
    expectTokenError(
      await token(
        [...FORM, 'Authorization', basicOf('pos', SECRETS.posSecret)],
        'grant_type=client_credentials&client_id=booking',
      ),
      400,
      'invalid_request',
    );
  });

  it('two Authorization headers: 400', async () => {
    const b = basicOf('pos', SECRETS.posSecret);
    expectTokenError(
      await token([...FORM, 'Authorization', b, 'Authorization', b], 'grant_type=client_credentials'),
      400,
      'invalid_request',
    );
  });

  it('a Bearer token at the token endpoint: 400', async () => {
    expectTokenError(
      await token([...FORM, 'Authorization', `Bearer ${h.posToken}`], 'grant_type=client_credentials'),
      400,
      'invalid_request',
    );
  });

  const badBasic: [string, string][] = [
    ['not base64', 'Basic !!!notbase64!!!'],
    ['base64 without a colon', `Basic ${Buffer.from('pos').toString('base64')}`],
    ['empty client id', `Basic ${Buffer.from(`:${SECRETS.posSecret}`).toString('base64')}`],
    ['malformed percent-encoding', `Basic ${Buffer.from(`pos:${SECRETS.posSecret}%zz`).toString('base64')}`],
    ['a colon too many (id:secret:extra)', `Basic ${Buffer.from(`pos:x:${SECRETS.posSecret}`).toString('base64')}`],
    [
      'base64url alphabet instead of base64',
      `Basic ${Buffer.from(`pos:${SECRETS.posSecret}??>>`).toString('base64url')}`,
    ],
    ['Basic with nothing after it', 'Basic'],
    [
      'two values after Basic',
      `Basic ${Buffer.from('pos:a').toString('base64')} ${Buffer.from('pos:b').toString('base64')}`,
    ],
  ];
  for (const [name, value] of badBasic) {
    it(`401 invalid_client with a Basic challenge: ${name}`, async () => {
      const res = await token([...FORM, 'Authorization', value], 'grant_type=client_credentials');
      expectTokenError(res, 401, 'invalid_client');
      expect(res.headers['www-authenticate']).toMatch(/^Basic realm="/);
    });
  }

  it('unknown client and wrong secret are identical, with Basic and in the body', async () => {
    const viaBasic = await Promise.all([
      token([...FORM, 'Authorization', basicOf('pos', 'wrong-secret-000')], 'grant_type=client_credentials'),
      token([...FORM, 'Authorization', basicOf('ghost', 'wrong-secret-000')], 'grant_type=client_credentials'),
      token([...FORM, 'Authorization', basicOf('POS', SECRETS.posSecret)], 'grant_type=client_credentials'),
    ]);
    const viaBody = await Promise.all([
      token(FORM, 'grant_type=client_credentials&client_id=pos&client_secret=wrong-secret-000'),
      token(FORM, 'grant_type=client_credentials&client_id=ghost&client_secret=wrong-secret-000'),
    ]);
    for (const res of [...viaBasic, ...viaBody]) expectTokenError(res, 401, 'invalid_client');
    expect(new Set([...viaBasic, ...viaBody].map((r) => r.body)).size).toBe(1);
    expect(new Set(viaBasic.map((r) => r.headers['www-authenticate'])).size).toBe(1);
    for (const r of viaBody) expect(r.headers['www-authenticate']).toBeUndefined();
  });

  it('only the exact token paths are the token endpoint: variants fall through to routing (404)', async () => {
    for (const path of [
      '/oauth/token/',
      '/oauth//token',
      '/OAUTH/TOKEN',
      '/oauth/./token',
      '/oauth/token;x',
      '/oauth/%74oken',
    ]) {
      const res = await token(FORM, `grant_type=client_credentials&${POS_BODY}`, path);
      expect(res.body).not.toContain('access_token');
      expect([400, 404]).toContain(res.status);
    }
    expectNothingForwarded(h);
  });

  it('GET and other methods: 405', async () => {
    for (const method of ['GET', 'PUT', 'DELETE']) {
      const res = await send(h.gw.url, method, `/oauth/token?grant_type=client_credentials&${POS_BODY}`);
      expectTokenError(res, 405, 'method_not_allowed');
    }
  });
});

describe('refresh tokens', () => {
  async function freshPair(): Promise<{ refresh: string }> {
    const res = await token(FORM, `grant_type=client_credentials&${POS_BODY}`);
    return { refresh: res.json().refresh_token as string };
  }

  it('a replayed refresh token fails and revokes its family', async () => {
    const { refresh } = await freshPair();
    const first = await token(FORM, `grant_type=refresh_token&refresh_token=${enc(refresh)}&${POS_BODY}`);
    expect(first.status).toBe(200);
    const next = first.json().refresh_token as string;
    expectTokenError(
      await token(FORM, `grant_type=refresh_token&refresh_token=${enc(refresh)}&${POS_BODY}`),
      400,
      'invalid_grant',
    );
    expectTokenError(
      await token(FORM, `grant_type=refresh_token&refresh_token=${enc(next)}&${POS_BODY}`),
      400,
      'invalid_grant',
    );
  });

  it('another client cannot use it', async () => {
    const { refresh } = await freshPair();
    const body = `grant_type=refresh_token&refresh_token=${enc(refresh)}&client_id=booking&client_secret=${enc(SECRETS.bookingSecret)}`;
    const res = await token(FORM, body);
    expect(res.status).toBe(400);
    expect(res.body).not.toContain('access_token');
    // and it still works for its owner: the failed attempt did not burn it
    expect((await token(FORM, `grant_type=refresh_token&refresh_token=${enc(refresh)}&${POS_BODY}`)).status).toBe(200);
  });

  it('an access token is not a refresh token; garbage is invalid_grant', async () => {
    for (const value of [h.posToken, 'x', 'a'.repeat(4000)]) {
      expectTokenError(
        await token(FORM, `grant_type=refresh_token&refresh_token=${enc(value)}&${POS_BODY}`),
        400,
        'invalid_grant',
      );
    }
  });

  it('refresh_token missing: invalid_request', async () => {
    expectTokenError(await token(FORM, `grant_type=refresh_token&${POS_BODY}`), 400, 'invalid_request');
  });
});
