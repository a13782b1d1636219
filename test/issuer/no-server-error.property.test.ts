/**
 * Issue 11 item 7: no 5xx from bad input or edge timing at the token endpoint. Arbitrary bodies, content types and
 * Authorization values, sent at clock positions around a client's `expires_at` (which has milliseconds), are
 * answered 200 or 4xx, never 5xx. Within the last second before such an `expires_at` no token can live one whole
 * second: the answer is 401 invalid_client (reason client_expired), not the 500 it was.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURE_YAML, POS_SECRET, basic, postForm, startIssuer, type IssuerFixture } from './issuer-fixture.js';

/** an instant with milliseconds, far from any test run's wall clock */
const EXPIRES_AT = Date.parse('2031-03-04T05:06:07.450Z');

let f: IssuerFixture;
beforeAll(async () => {
  f = await startIssuer(
    FIXTURE_YAML.replace(
      'routes:',
      `  - id: edge-partner
    secret: \${POS_SECRET}
    scopes: [menu:read]
    tenants: [rest-berlin]
    refresh_tokens: true
    expires_at: ${new Date(EXPIRES_AT).toISOString()}
routes:`,
    ),
  );
});
afterAll(async () => {
  await f?.close();
});

const EDGE = { client_id: 'edge-partner', client_secret: POS_SECRET };

describe('the token endpoint near a client expires_at with milliseconds', () => {
  it.each([-449, -300, -1, 0, 1, 200])('%i ms around expires_at: 401 invalid_client, never 500', async (offset) => {
    f.clock.now = EXPIRES_AT + offset;
    const res = await postForm(`${f.url}/oauth/token`, { grant_type: 'client_credentials', ...EDGE });
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_client');
  });

  it('a second and more before: a token whose expires_in is a positive integer ending at expires_at', async () => {
    f.clock.now = EXPIRES_AT - 1450;
    const res = await postForm(`${f.url}/oauth/token`, { grant_type: 'client_credentials', ...EDGE });
    expect(res.status).toBe(200);
    expect(res.body.expires_in).toBe(1);
  });

  it('a refresh token is not used up by a refused refresh in the last second', async () => {
    f.clock.now = EXPIRES_AT - 5000;
    const first = await postForm(`${f.url}/oauth/token`, { grant_type: 'client_credentials', ...EDGE });
    const refresh = first.body.refresh_token as string;
    f.clock.now = EXPIRES_AT - 100;
    const late = await postForm(`${f.url}/oauth/token`, {
      grant_type: 'refresh_token',
      refresh_token: refresh,
      ...EDGE,
    });
    expect(late.status).toBe(401);
    f.clock.now = EXPIRES_AT - 4000;
    const again = await postForm(`${f.url}/oauth/token`, {
      grant_type: 'refresh_token',
      refresh_token: refresh,
      ...EDGE,
    });
    expect(again.status).toBe(200);
  });
});

describe('property: never a 5xx', () => {
  const param = fc.oneof(
    fc.constantFrom(
      'grant_type=client_credentials',
      'grant_type=refresh_token',
      'grant_type=password',
      'grant_type=',
      'client_id=edge-partner',
      'client_id=pos-partner',
      'client_id=expired-partner',
      `client_secret=${POS_SECRET}`,
      'client_secret=wrong',
      'scope=menu:read',
      'scope=menu%3Aread+orders%3Aread',
      'scope=',
      'scope=%00',
      'organization_id=rest-berlin',
      'organization_id=%ZZ',
      'refresh_token=abc',
      'refresh_token=',
      '%',
      '=',
      '&&',
      'a=%E2%82',
    ),
    fc.string({ maxLength: 20 }).map(encodeURIComponent),
    fc.string({ maxLength: 12 }),
  );
  const valid = fc
    .tuple(fc.constantFrom('client_credentials', 'refresh_token'), fc.array(param, { maxLength: 2 }))
    .map(([grant, extra]) =>
      [`grant_type=${grant}`, 'client_id=edge-partner', `client_secret=${POS_SECRET}`, ...extra].join('&'),
    );
  const body = fc.oneof(
    valid,
    fc.array(param, { maxLength: 7 }).map((ps) => ps.join('&')),
  );
  const contentType = fc.constantFrom(
    'application/x-www-form-urlencoded',
    'application/x-www-form-urlencoded',
    'application/x-www-form-urlencoded; charset=utf-8',
    'application/json',
    'text/plain',
    'multipart/form-data; boundary=x',
    '',
  );
  const authorization = fc.oneof(
    { weight: 3, arbitrary: fc.constant(undefined) },
    fc.constantFrom(
      basic('edge-partner', POS_SECRET),
      basic('pos-partner', POS_SECRET),
      basic('edge-partner', 'wrong'),
      'Basic',
      'Basic =',
      'Basic !!!',
      'Bearer x',
      'basic ' + Buffer.from('%:%').toString('base64'),
    ),
    fc.string({ maxLength: 30 }).filter((s) => /^[\x20-\x7e]*$/.test(s)),
  );
  // around expires_at: a few seconds before and after, milliseconds included
  const offset = fc.oneof(
    fc.integer({ min: -3000, max: 1500 }),
    fc.integer({ min: -1450, max: 0 }),
    fc.constantFrom(-1000, -999, -451, -450, -449, 0),
  );

  it('any body, content type, Authorization and clock position gets 2xx or 4xx', async () => {
    await fc.assert(
      fc.asyncProperty(body, contentType, authorization, offset, async (form, type, auth, at) => {
        f.clock.now = EXPIRES_AT + at;
        const headers: Record<string, string> = {};
        if (type !== '') headers['Content-Type'] = type;
        if (auth !== undefined) headers.Authorization = auth;
        const res = await fetch(`${f.url}/oauth/token`, { method: 'POST', headers, body: form });
        const text = await res.text();
        expect(res.status, `${at} ${type} ${auth} ${form} -> ${text}`).toBeLessThan(500);
      }),
      { numRuns: 300 },
    );
  });
});
