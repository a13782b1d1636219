import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  basic,
  encodeEveryChar,
  expectError,
  FORM,
  ODD_ID,
  ODD_SECRET,
  OTHER_SECRET,
  POS,
  POS_SECRET,
  postForm,
  rawPost,
  startIssuer,
  type IssuerFixture,
} from './issuer-fixture.js';

let f: IssuerFixture;
let tokenUrl: string;
beforeAll(async () => {
  f = await startIssuer();
  tokenUrl = `${f.url}/oauth/token`;
});
afterAll(() => f.close());
beforeEach(() => {
  f.clock.now = Date.now();
  f.failedAuth.length = 0;
});

describe('client authentication', () => {
  it('accepts Basic with id and secret form-urlencoded before base64 (RFC 6749 2.3.1)', async () => {
    const res = await postForm(
      tokenUrl,
      { grant_type: 'client_credentials' },
      { Authorization: basic(ODD_ID, ODD_SECRET) },
    );
    expect(res.status).toBe(200);
  });

  it('accepts Basic with every character percent-encoded (openid-client, oauth4webapi)', async () => {
    const res = await postForm(
      tokenUrl,
      { grant_type: 'client_credentials' },
      { Authorization: basic(ODD_ID, ODD_SECRET, encodeEveryChar) },
    );
    expect(res.status).toBe(200);
  });

  it('accepts the special-character secret in the body too', async () => {
    const res = await postForm(tokenUrl, {
      grant_type: 'client_credentials',
      client_id: ODD_ID,
      client_secret: ODD_SECRET,
    });
    expect(res.status).toBe(200);
  });

  it('accepts a client_id in the body next to Basic when it names the same client', async () => {
    const ok = await postForm(
      tokenUrl,
      { grant_type: 'client_credentials', client_id: ODD_ID },
      { Authorization: basic(ODD_ID, ODD_SECRET) },
    );
    expect(ok.status).toBe(200);
    const other = await postForm(
      tokenUrl,
      { grant_type: 'client_credentials', client_id: 'pos-partner' },
      { Authorization: basic(ODD_ID, ODD_SECRET) },
    );
    expectError(other, 400, 'invalid_request');
  });

  it('refuses Basic credentials that were not form-urlencoded when they decode differently', async () => {
    // "a:b%c+d ..." sent raw: "%c " is malformed percent-encoding, so the secret cannot be what the client meant.
    const raw = `Basic ${Buffer.from(`${ODD_ID}:${ODD_SECRET}`).toString('base64')}`;
    const res = await postForm(tokenUrl, { grant_type: 'client_credentials' }, { Authorization: raw });
    expectError(res, 401, 'invalid_client');
    expect(res.headers.get('www-authenticate')).toBe('Basic realm="restaurant-api"');
  });

  it('answers a wrong Basic secret with 401 invalid_client and a Basic challenge', async () => {
    const res = await postForm(
      tokenUrl,
      { grant_type: 'client_credentials' },
      { Authorization: basic('pos-partner', 'wrong') },
    );
    expectError(res, 401, 'invalid_client');
    expect(res.headers.get('www-authenticate')).toBe('Basic realm="restaurant-api"');
    expect(f.failedAuth).toEqual([{ clientId: 'pos-partner', remote: '127.0.0.1' }]);
  });

  it('answers a wrong body secret with 401 invalid_client and no Basic challenge', async () => {
    const res = await postForm(tokenUrl, {
      grant_type: 'client_credentials',
      client_id: 'pos-partner',
      client_secret: 'wrong',
    });
    expectError(res, 401, 'invalid_client');
    expect(res.headers.get('www-authenticate')).toBeNull();
    expect(f.failedAuth).toHaveLength(1);
  });

  it('makes an unknown client and a wrong secret indistinguishable', async () => {
    const wrong = await postForm(tokenUrl, {
      grant_type: 'client_credentials',
      client_id: 'pos-partner',
      client_secret: 'nope',
    });
    const unknown = await postForm(tokenUrl, {
      grant_type: 'client_credentials',
      client_id: 'nobody',
      client_secret: 'nope',
    });
    expect(unknown.status).toBe(wrong.status);
    expect(unknown.body).toEqual(wrong.body);
    const wrongBasic = await postForm(
      tokenUrl,
      { grant_type: 'client_credentials' },
      { Authorization: basic('pos-partner', 'x') },
    );
    const unknownBasic = await postForm(
      tokenUrl,
      { grant_type: 'client_credentials' },
      { Authorization: basic('nobody', 'x') },
    );
    expect(unknownBasic.body).toEqual(wrongBasic.body);
    expect(unknownBasic.headers.get('www-authenticate')).toBe(wrongBasic.headers.get('www-authenticate'));
  });

  it('answers no credentials with 401 invalid_client and a Basic challenge naming the scheme to use', async () => {
    const res = await postForm(tokenUrl, { grant_type: 'client_credentials' });
    expectError(res, 401, 'invalid_client');
    expect(res.headers.get('www-authenticate')).toBe('Basic realm="restaurant-api"');
  });

  it('refuses a client_id without a secret (no public clients)', async () => {
    expectError(
      await postForm(tokenUrl, { grant_type: 'client_credentials', client_id: 'pos-partner' }),
      401,
      'invalid_client',
    );
  });

  it('refuses two authentication methods at once with invalid_request', async () => {
    const res = await postForm(
      tokenUrl,
      { grant_type: 'client_credentials', ...POS },
      { Authorization: basic('pos-partner', POS_SECRET) },
    );
    expectError(res, 400, 'invalid_request');
  });

  it('refuses client_secret without client_id, another scheme, and two Authorization headers', async () => {
    expectError(
      await postForm(tokenUrl, { grant_type: 'client_credentials', client_secret: POS_SECRET }),
      400,
      'invalid_request',
    );
    expectError(
      await postForm(tokenUrl, { grant_type: 'client_credentials', ...POS }, { Authorization: 'Bearer abc' }),
      400,
      'invalid_request',
    );
    const two = await rawPost(f.url, '/oauth/token', ['grant_type=client_credentials'], {
      'Content-Type': FORM['Content-Type'],
      Authorization: [basic('pos-partner', POS_SECRET), basic(ODD_ID, ODD_SECRET)],
    });
    expect(two.status).toBe(400);
    expect(two.body.error).toBe('invalid_request');
  });

  it('refuses a revoked client with invalid_client, and accepts it again once restored', async () => {
    await f.store.revokeClient('other-partner', f.clock.now);
    const body = { grant_type: 'client_credentials', client_id: 'other-partner', client_secret: OTHER_SECRET };
    expectError(await postForm(tokenUrl, body), 401, 'invalid_client');
    const viaBasic = await postForm(
      tokenUrl,
      { grant_type: 'client_credentials' },
      { Authorization: basic('other-partner', OTHER_SECRET) },
    );
    expectError(viaBasic, 401, 'invalid_client');
    expect(viaBasic.headers.get('www-authenticate')).toBe('Basic realm="restaurant-api"');
    await f.store.restoreClient('other-partner');
    expect((await postForm(tokenUrl, body)).status).toBe(200);
  });

  it('refuses a client past its expires_at with invalid_client', async () => {
    const res = await postForm(tokenUrl, {
      grant_type: 'client_credentials',
      client_id: 'expired-partner',
      client_secret: OTHER_SECRET,
    });
    expectError(res, 401, 'invalid_client');
  });
});
