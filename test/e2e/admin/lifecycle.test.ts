/**
 * The whole lifecycle over HTTP against a started gateway (SPEC.md 10), as an operator and as an org admin: create,
 * hand over the secret, use it on the token endpoint and the request path, rotate with overlap, API keys, a test
 * refresh token, revoke, restore, delete; plus every error code. At the end, every secret and token minted here is
 * searched for in every log line and audit record.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAudit, AUDIT_LOG } from '../../../src/admin/audit-trail.js';
import { send } from '../../helpers/http.js';
import { postForm } from '../issuer/harness.js';
import { startAdminGateway, type AdminHarness } from './harness.js';

let h: AdminHarness;
const minted: string[] = [];

beforeAll(async () => {
  h = await startAdminGateway();
  minted.push(...Object.values(h.tokens));
});
afterAll(async () => {
  await h?.close();
});

async function createClient(token: string, body: Record<string, unknown>) {
  const res = await h.call(token, 'POST', '/admin/clients', body);
  const secret = (res.body.secret as { value?: string } | undefined)?.value;
  if (secret) minted.push(secret);
  return res;
}

const tokenFor = (id: string, secret: string, params: Record<string, string> = {}) =>
  postForm(h.gw.url, '/oauth/token', { id, secret }, { grant_type: 'client_credentials', ...params });

const viaSecret = (id: string, secret: string, path = '/api/menu/today') =>
  send(h.gw.url, 'GET', path, ['X-Client-Id', id, 'X-Client-Secret', secret]);

describe('operator lifecycle', () => {
  it('creates a client, whose secret then works on the token endpoint and the request path', async () => {
    const res = await createClient(h.tokens.operator, {
      id: 'partner-1',
      name: 'Partner One',
      provider_url: 'https://partner.example',
      contact: 'ops@partner.example',
      scopes: ['menu:read', 'orders:read'],
      refresh_tokens: true,
      rate_limit: '50/s',
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(res.headers.get('etag')).toMatch(/^"v\d+"$/);
    const client = res.body.client as Record<string, unknown>;
    expect(Object.keys(client).sort()).toEqual(
      [
        'id',
        'name',
        'provider_url',
        'contact',
        'organizations',
        'scopes',
        'refresh_tokens',
        'rate_limit',
        'expires_at',
        'status',
        'source',
        'created_at',
      ].sort(),
    );
    expect(client).toMatchObject({ id: 'partner-1', status: 'active', source: 'store', organizations: [] });
    const secret = res.body.secret as { id: string; value: string; expires_at: string };
    expect(secret.value).toMatch(/^[A-Za-z0-9_-]{43}$/); // 256 bits, URL-safe
    const ttl = Date.parse(secret.expires_at) - Date.now();
    expect(ttl).toBeGreaterThan(29 * 86_400_000); // admin.secret_ttl: 30d
    expect(ttl).toBeLessThanOrEqual(30 * 86_400_000);

    const token = await tokenFor('partner-1', secret.value);
    expect(token.status).toBe(200);
    expect(token.body.scope).toBe('menu:read orders:read');
    const before = h.upstream.requests.length;
    const forwarded = await viaSecret('partner-1', secret.value);
    expect(forwarded.status).toBe(200);
    expect(h.upstream.requests[before]!.headers['x-auth-client-id']).toBe('partner-1');
    const bearer = await send(h.gw.url, 'GET', '/api/orders/1', [
      'Authorization',
      `Bearer ${String(token.body.access_token)}`,
    ]);
    expect(bearer.status).toBe(200);
    minted.push(String(token.body.access_token));

    // a wrong secret is refused as before
    expect((await viaSecret('partner-1', 'wrong-secret-value-xxxxxxxxxxxxxxxx')).status).toBe(401);
  });

  it('never shows a secret again: GET client, list and secrets list hold no value', async () => {
    const list = await h.call(h.tokens.operator, 'GET', '/admin/clients');
    expect(list.status).toBe(200);
    const ids = (list.body.clients as { id: string }[]).map((c) => c.id);
    expect(ids).toEqual(expect.arrayContaining(['file-client', 'partner-1']));
    const secrets = await h.call(h.tokens.operator, 'GET', '/admin/clients/partner-1/secrets');
    expect(secrets.status).toBe(200);
    const rows = secrets.body.secrets as Record<string, unknown>[];
    expect(rows).toHaveLength(1);
    expect(Object.keys(rows[0]!).sort()).toEqual(['created_at', 'expires_at', 'id', 'last_used_at', 'status']);
    for (const value of minted) expect(list.text + secrets.text).not.toContain(value);
  });

  it('updates with ETag / If-Match: 412 when stale, 200 with the current one', async () => {
    const got = await h.call(h.tokens.operator, 'GET', '/admin/clients/partner-1');
    expect(got.status).toBe(200);
    expect(got.body.id).toBe('partner-1');
    const etag = got.headers.get('etag')!;
    const ok = await h.call(
      h.tokens.operator,
      'PATCH',
      '/admin/clients/partner-1',
      { name: 'Partner 1' },
      { 'If-Match': etag },
    );
    expect(ok.status).toBe(200);
    expect(ok.body.name).toBe('Partner 1');
    expect(ok.headers.get('etag')).not.toBe(etag);
    const stale = await h.call(
      h.tokens.operator,
      'PATCH',
      '/admin/clients/partner-1',
      { name: 'late' },
      { 'If-Match': etag },
    );
    expect(stale.status).toBe(412);
    expect(stale.body.error).toBe('precondition_failed');
  });

  it('answers bad input with 400 and the field, never a 5xx', async () => {
    const cases: [unknown, string][] = [
      ['{"name": ', 'body'],
      [{ name: 'x', scopes: 'menu:read' }, 'scopes'],
      [{ name: 'x', scopes: [], surprise: 1 }, 'surprise'],
      [{ name: '', scopes: [] }, 'name'],
      [{ name: 'x', scopes: [], provider_url: 'ftp://x' }, 'provider_url'],
      [{ name: 'x', scopes: [], expires_at: 'tomorrow' }, 'expires_at'],
      [{ name: 'x', scopes: [], rate_limit: 'fast' }, 'rate_limit'],
      [{ name: 'x', scopes: ['a b'] }, 'scopes.0'],
      [{ id: 'bad id', name: 'x', scopes: [] }, 'id'],
      [[1, 2], 'body'],
    ];
    for (const [body, field] of cases) {
      const res = await h.call(h.tokens.operator, 'POST', '/admin/clients', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body).toMatchObject({ error: 'invalid_request', field });
    }
    const rot = await h.call(h.tokens.operator, 'POST', '/admin/clients/partner-1/secrets', { expires_in: '400d' });
    expect(rot.body).toMatchObject({ error: 'invalid_request', field: 'expires_in' });
    const q = await h.call(h.tokens.operator, 'GET', '/admin/audit?since=yesterday');
    expect(q.body).toMatchObject({ error: 'invalid_request', field: 'since' });
  });

  it('409 for file clients and taken ids, 404 for unknown ones', async () => {
    expect((await h.call(h.tokens.operator, 'PATCH', '/admin/clients/file-client', { name: 'x' })).status).toBe(409);
    expect((await h.call(h.tokens.operator, 'DELETE', '/admin/clients/file-client')).status).toBe(409);
    expect((await h.call(h.tokens.operator, 'POST', '/admin/clients/file-client/secrets', {})).status).toBe(409);
    const taken = await h.call(h.tokens.operator, 'POST', '/admin/clients', {
      id: 'file-client',
      name: 'x',
      scopes: [],
    });
    expect(taken.body.error).toBe('conflict');
    const again = await h.call(h.tokens.operator, 'POST', '/admin/clients', { id: 'partner-1', name: 'x', scopes: [] });
    expect(again.status).toBe(409);
    const file = await h.call(h.tokens.operator, 'GET', '/admin/clients/file-client');
    expect(file.body).toMatchObject({ source: 'file', organizations: ['rest-berlin'] });
    expect((await h.call(h.tokens.operator, 'GET', '/admin/clients/nobody')).status).toBe(404);
    expect((await h.call(h.tokens.operator, 'DELETE', '/admin/clients/nobody')).body.error).toBe('not_found');
  });

  it('rotates with an overlap (both work), then immediately (the old one is refused like a wrong one)', async () => {
    const first = await createClient(h.tokens.operator, { id: 'rotating', name: 'Rotating', scopes: ['menu:read'] });
    const s1 = (first.body.secret as { value: string }).value;
    const r2 = await h.call(h.tokens.operator, 'POST', '/admin/clients/rotating/secrets', {});
    expect(r2.status).toBe(201);
    const s2 = (r2.body.secret as { value: string }).value;
    minted.push(s2);
    expect((await viaSecret('rotating', s1)).status).toBe(200);
    expect((await viaSecret('rotating', s2)).status).toBe(200);
    const r3 = await h.call(h.tokens.operator, 'POST', '/admin/clients/rotating/secrets', {
      overlap: '0s',
      expires_in: 3600,
    });
    const s3 = (r3.body.secret as { value: string }).value;
    minted.push(s3);
    expect((await viaSecret('rotating', s3)).status).toBe(200);
    for (const old of [s1, s2]) {
      const refused = await viaSecret('rotating', old);
      expect(refused.status).toBe(401);
      expect(refused.json().error).toBe('invalid_client');
      expect((await tokenFor('rotating', old)).body.error).toBe('invalid_client');
    }
    const listed = await h.call(h.tokens.operator, 'GET', '/admin/clients/rotating/secrets');
    const active = (listed.body.secrets as { status: string }[]).filter((s) => s.status === 'active');
    expect(active.length).toBeLessThanOrEqual(2);
  });

  it('keeps at most two secrets active', async () => {
    const res = await createClient(h.tokens.operator, { id: 'two-max', name: 'Two', scopes: [] });
    expect(res.status).toBe(201);
    for (let i = 0; i < 3; i++) {
      const r = await h.call(h.tokens.operator, 'POST', '/admin/clients/two-max/secrets', {});
      minted.push((r.body.secret as { value: string }).value);
    }
    const listed = await h.call(h.tokens.operator, 'GET', '/admin/clients/two-max/secrets');
    expect((listed.body.secrets as { status: string }[]).filter((s) => s.status === 'active')).toHaveLength(2);
  });

  it('refuses an expired secret like a wrong one', async () => {
    const res = await createClient(h.tokens.operator, { id: 'short-lived', name: 'Short', scopes: ['menu:read'] });
    const first = (res.body.secret as { value: string }).value;
    const r = await h.call(h.tokens.operator, 'POST', '/admin/clients/short-lived/secrets', {
      expires_in: 1,
      overlap: 0,
    });
    const value = (r.body.secret as { value: string }).value;
    minted.push(value);
    expect((await viaSecret('short-lived', value)).status).toBe(200);
    expect((await viaSecret('short-lived', first)).status).toBe(401);
    await new Promise((r) => setTimeout(r, 1100));
    const refused = await viaSecret('short-lived', value);
    expect(refused.status).toBe(401);
    expect(refused.json().error).toBe('invalid_client');
    expect((await tokenFor('short-lived', value)).status).toBe(401);
  });

  it("caps: an expired client is refused, a client's scopes bound its token, last_used_at is recorded", async () => {
    const res = await createClient(h.tokens.operator, {
      id: 'capped',
      name: 'Capped',
      scopes: ['menu:read'],
      expires_at: '2020-01-01T00:00:00Z',
    });
    const value = (res.body.secret as { value: string }).value;
    expect(res.body.client).toMatchObject({ status: 'expired' });
    expect((await viaSecret('capped', value)).status).toBe(401);
    expect((await tokenFor('capped', value)).body.error).toBe('invalid_client');
    expect((await h.call(h.tokens.operator, 'PATCH', '/admin/clients/capped', { expires_at: null })).status).toBe(200);
    expect((await viaSecret('capped', value)).status).toBe(200);
    expect((await viaSecret('capped', value, '/api/orders/1')).status).toBe(403);
    expect((await tokenFor('capped', value, { scope: 'orders:read' })).body.error).toBe('invalid_scope');
    let lastUsed: unknown = null;
    for (let i = 0; i < 50 && lastUsed === null; i++) {
      const listed = await h.call(h.tokens.operator, 'GET', '/admin/clients/capped/secrets');
      lastUsed = (listed.body.secrets as { last_used_at: unknown }[])[0]!.last_used_at;
      if (lastUsed === null) await new Promise((r) => setTimeout(r, 20));
    }
    expect(lastUsed).toEqual(expect.stringMatching(/^\d{4}-/));
  });

  it('API keys: created once, found by hash, refused at once after DELETE', async () => {
    const res = await h.call(h.tokens.operator, 'POST', '/admin/clients/partner-1/api-keys', { expires_in: '7d' });
    expect(res.status).toBe(201);
    const key = res.body.api_key as { id: string; value: string; expires_at: string };
    minted.push(key.value);
    expect(key.value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const ok = await send(h.gw.url, 'GET', '/api/menu/x', ['X-Api-Key', key.value]);
    expect(ok.status).toBe(200);
    const listed = await h.call(h.tokens.operator, 'GET', '/admin/clients/partner-1/api-keys');
    expect(listed.body.api_keys).toEqual([expect.objectContaining({ id: key.id, status: 'active' })]);
    expect(listed.text).not.toContain(key.value);
    expect((await h.call(h.tokens.operator, 'DELETE', `/admin/clients/partner-1/api-keys/${key.id}`)).status).toBe(204);
    const refused = await send(h.gw.url, 'GET', '/api/menu/x', ['X-Api-Key', key.value]);
    expect(refused.status).toBe(401);
    expect(refused.json().error).toBe('invalid_token');
    expect((await h.call(h.tokens.operator, 'DELETE', `/admin/clients/partner-1/api-keys/${key.id}`)).status).toBe(404);
  });

  it('mints a test refresh token (default 1 h, at most 24 h) that the client can use', async () => {
    const res = await h.call(h.tokens.operator, 'POST', '/admin/clients/partner-1/refresh-tokens', {
      scope: 'menu:read',
    });
    expect(res.status).toBe(201);
    expect(res.body.expires_in).toBe(3600);
    expect(res.body.scope).toBe('menu:read');
    const refresh = String(res.body.refresh_token);
    minted.push(refresh);
    const secret = await h.call(h.tokens.operator, 'POST', '/admin/clients/partner-1/secrets', {});
    const value = (secret.body.secret as { value: string }).value;
    minted.push(value);
    const used = await postForm(
      h.gw.url,
      '/oauth/token',
      { id: 'partner-1', secret: value },
      {
        grant_type: 'refresh_token',
        refresh_token: refresh,
      },
    );
    expect(used.status).toBe(200);
    expect(used.body.scope).toBe('menu:read');
    minted.push(String(used.body.access_token), String(used.body.refresh_token));
    // revocable like any other refresh token (RFC 7009)
    const revoked = await postForm(
      h.gw.url,
      '/oauth/revoke',
      { id: 'partner-1', secret: value },
      {
        token: String(used.body.refresh_token),
      },
    );
    expect(revoked.status).toBe(200);
    const again = await postForm(
      h.gw.url,
      '/oauth/token',
      { id: 'partner-1', secret: value },
      {
        grant_type: 'refresh_token',
        refresh_token: String(used.body.refresh_token),
      },
    );
    expect(again.body.error).toBe('invalid_grant');
    const tooLong = await h.call(h.tokens.operator, 'POST', '/admin/clients/partner-1/refresh-tokens', {
      expires_in: '25h',
    });
    expect(tooLong.body).toMatchObject({ error: 'invalid_request', field: 'expires_in' });
    const wider = await h.call(h.tokens.operator, 'POST', '/admin/clients/partner-1/refresh-tokens', {
      scope: 'menu:write',
    });
    expect(wider.body).toMatchObject({ error: 'invalid_request', field: 'scope' });
  });

  it('revoke and restore work on store clients; DELETE stops the credentials at once', async () => {
    const res = await createClient(h.tokens.operator, { id: 'short-term', name: 'Short term', scopes: ['menu:read'] });
    const value = (res.body.secret as { value: string }).value;
    expect((await viaSecret('short-term', value)).status).toBe(200);
    expect((await h.call(h.tokens.operator, 'POST', '/admin/clients/short-term/revoke')).status).toBe(200);
    expect((await tokenFor('short-term', value)).body.error).toBe('invalid_client');
    expect((await h.call(h.tokens.operator, 'GET', '/admin/clients/short-term')).body.status).toBe('revoked');
    expect((await h.call(h.tokens.operator, 'POST', '/admin/clients/short-term/restore')).status).toBe(200);
    expect((await tokenFor('short-term', value)).status).toBe(200);
    expect((await h.call(h.tokens.operator, 'DELETE', '/admin/clients/short-term')).status).toBe(204);
    expect((await viaSecret('short-term', value)).status).toBe(401);
    expect((await tokenFor('short-term', value)).body.error).toBe('invalid_client');
    expect((await h.call(h.tokens.operator, 'GET', '/admin/clients/short-term')).status).toBe(404);
  });
});

describe('org admin lifecycle', () => {
  it('creates a client for its organization with licensed scopes only', async () => {
    const res = await createClient(h.tokens.berlin, {
      id: 'berlin-booking',
      name: 'Berlin booking partner',
      organizations: ['rest-berlin'],
      scopes: ['reservations:read', 'reservations:write'],
      refresh_tokens: true,
    });
    expect(res.status).toBe(201);
    const secret = (res.body.secret as { value: string }).value;
    const token = await tokenFor('berlin-booking', secret, { organization_id: 'rest-berlin' });
    expect(token.status).toBe(200);
    minted.push(String(token.body.access_token));
    const bearer = ['Authorization', `Bearer ${String(token.body.access_token)}`];
    expect((await send(h.gw.url, 'GET', '/api/organizations/rest-berlin/reservations/1', bearer)).status).toBe(200);
    expect((await send(h.gw.url, 'GET', '/api/organizations/rest-munich/reservations/1', bearer)).status).toBe(403);
    const mint = await h.call(h.tokens.berlin, 'POST', '/admin/clients/berlin-booking/refresh-tokens', {});
    expect(mint.status).toBe(201);
    minted.push(String(mint.body.refresh_token));
  });

  it('422 with the scopes for an unlicensed scope, 403 for another organization', async () => {
    const unlicensed = await h.call(h.tokens.berlin, 'POST', '/admin/clients', {
      name: 'x',
      organizations: ['rest-berlin'],
      scopes: ['reservations:read', 'orders:write'],
    });
    expect(unlicensed.status).toBe(422);
    expect(unlicensed.body).toMatchObject({ error: 'grant_not_licensed', scopes: ['orders:write'] });
    const other = await h.call(h.tokens.berlin, 'POST', '/admin/clients', {
      name: 'x',
      organizations: ['rest-munich'],
      scopes: ['menu:read'],
    });
    expect(other.status).toBe(403);
    expect(other.body.error).toBe('forbidden');
    const none = await h.call(h.tokens.berlin, 'POST', '/admin/clients', { name: 'x', scopes: ['menu:read'] });
    expect(none.status).toBe(403);
    const widen = await h.call(h.tokens.berlin, 'PATCH', '/admin/clients/berlin-booking', { scopes: ['orders:read'] });
    expect(widen.status).toBe(422);
    const move = await h.call(h.tokens.berlin, 'PATCH', '/admin/clients/berlin-booking', {
      organizations: ['rest-munich'],
    });
    expect(move.status).toBe(403);
    // operators are bound by the licences too
    const op = await h.call(h.tokens.operator, 'POST', '/admin/clients', {
      name: 'x',
      organizations: ['rest-munich'],
      scopes: ['reservations:read'],
    });
    expect(op.body).toMatchObject({ error: 'grant_not_licensed', scopes: ['reservations:read'] });
  });

  it("sees only its organizations' clients and audit records", async () => {
    const list = await h.call(h.tokens.berlin, 'GET', '/admin/clients');
    const ids = (list.body.clients as { id: string }[]).map((c) => c.id);
    expect(ids).toEqual(expect.arrayContaining(['berlin-booking', 'file-client']));
    expect(ids).not.toContain('partner-1');
    expect((await h.call(h.tokens.berlin, 'GET', '/admin/clients/partner-1')).status).toBe(403);
    expect((await h.call(h.tokens.munich, 'GET', '/admin/clients/berlin-booking')).status).toBe(403);
    expect((await h.call(h.tokens.munich, 'POST', '/admin/clients/berlin-booking/revoke')).status).toBe(403);
    const audit = await h.call(h.tokens.berlin, 'GET', '/admin/audit');
    const records = audit.body.records as { target: { organizations?: string[] } }[];
    expect(records.length).toBeGreaterThan(0);
    for (const r of records) expect(r.target.organizations).toEqual(['rest-berlin']);
  });

  it('the catalogue shows what the caller may grant', async () => {
    const op = await h.call(h.tokens.operator, 'GET', '/admin/catalog');
    expect(op.body.endpoints).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: '/api/menu/**', read: ['menu:read'], write: ['menu:write'] }),
        expect.objectContaining({ path: '/api/orders/**', read: ['orders:read'], write: ['orders:write'] }),
      ]),
    );
    const berlin = await h.call(h.tokens.berlin, 'GET', '/admin/catalog');
    const paths = (berlin.body.endpoints as { path: string }[]).map((e) => e.path);
    expect(paths).toEqual(['/api/menu/**', '/api/organizations/:org/reservations/**']);
    expect(berlin.body.endpoints).toContainEqual(
      expect.objectContaining({ path: '/api/menu/**', read_grantable: true, write_grantable: false }),
    );
    expect(paths).not.toContain('/api/public/**');
  });
});

describe('audit trail', () => {
  it('records every action with actor, address and target, filters, pages, and chains hashes', async () => {
    const all = await h.call(h.tokens.operator, 'GET', '/admin/audit?limit=1000');
    const records = all.body.records as {
      seq: number;
      action: string;
      actor: string;
      address: string;
      hash: string;
      prev_hash: string;
    }[];
    const actions = new Set(records.map((r) => r.action));
    for (const a of ['create', 'update', 'delete', 'rotate', 'revoke', 'restore', 'mint']) expect(actions).toContain(a);
    expect(records[0]!.prev_hash).toBe('0'.repeat(64));
    for (let i = 1; i < records.length; i++) expect(records[i]!.prev_hash).toBe(records[i - 1]!.hash);
    expect(records.every((r) => r.address === '127.0.0.1' || r.address === '::ffff:127.0.0.1')).toBe(true);
    const byBerlin = await h.call(h.tokens.operator, 'GET', '/admin/audit?actor=berlin-owner');
    expect((byBerlin.body.records as { actor: string }[]).every((r) => r.actor === 'berlin-owner')).toBe(true);
    const byClient = await h.call(h.tokens.operator, 'GET', '/admin/audit?client=rotating');
    expect((byClient.body.records as unknown[]).length).toBeGreaterThanOrEqual(3);
    const page1 = await h.call(h.tokens.operator, 'GET', '/admin/audit?limit=2');
    expect(page1.body.next).toEqual(expect.any(String));
    const page2 = await h.call(h.tokens.operator, 'GET', `/admin/audit?limit=2&cursor=${String(page1.body.next)}`);
    expect((page2.body.records as { seq: number }[])[0]!.seq).toBe(3);
    const future = await h.call(
      h.tokens.operator,
      'GET',
      `/admin/audit?since=${new Date(Date.now() + 60_000).toISOString()}`,
    );
    expect(future.body).toEqual({ records: [], next: null });
    expect((await verifyAudit(h.gw.services.store)).broken).toBeUndefined();
  });

  it('records failed admin authentication without the token', async () => {
    const wrong = 'not-a-valid-admin-token-0123456789abcdef';
    minted.push(wrong);
    expect((await h.call(wrong, 'GET', '/admin/clients')).status).toBe(401);
    const audit = await h.call(h.tokens.operator, 'GET', '/admin/audit?limit=1000');
    const failed = (audit.body.records as { action: string; actor: unknown }[]).filter(
      (r) => r.action === 'auth_failed',
    );
    expect(failed.length).toBeGreaterThan(0);
    expect(failed[0]!.actor).toBeNull();
  });

  it('no log line and no audit record holds a secret or token minted in this suite', async () => {
    const docs = h.gw.services.store;
    const entries = await docs.readLog(AUDIT_LOG, 1, 100_000);
    const haystack = [...h.gw.rawLogs, ...entries.map((e) => e.body)].join('\n');
    expect(minted.length).toBeGreaterThan(15);
    for (const value of minted) expect(haystack).not.toContain(value);
  });
});

describe('metrics', () => {
  it('scopegate_client_secret_expiry_seconds gives each store client the time to its earliest secret expiry', async () => {
    const res = await createClient(h.tokens.operator, { id: 'metered', name: 'Metered', scopes: [] });
    expect(res.status).toBe(201);
    const text = await (await fetch(`${h.gw.adminUrl}/metrics`)).text();
    const m = /scopegate_client_secret_expiry_seconds\{client="metered"\} (\d+)/.exec(text);
    expect(m).not.toBeNull();
    const seconds = Number(m![1]);
    expect(seconds).toBeGreaterThan(30 * 86_400 - 60);
    expect(seconds).toBeLessThanOrEqual(30 * 86_400);
    expect(text).not.toMatch(/scopegate_client_secret_expiry_seconds\{client="file-client"\}/);
  });
});
