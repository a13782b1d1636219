/**
 * Walks the whole admin route table with every kind of caller (SPEC.md 10): no token, a wrong token, an expired
 * token, a viewer, the org admin of another organization, the operator. Also: the public listener never serves an
 * admin path, and failed admin logins go through the failed-auth limit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_ROUTES } from '../../../src/admin/routes/index.js';
import { send } from '../../helpers/http.js';
import { newToken, startAdminGateway, type AdminHarness } from './harness.js';

let h: AdminHarness;
beforeAll(async () => {
  h = await startAdminGateway({ failedAuthLimit: '1000/min' });
});
afterAll(async () => {
  await h?.close();
});

const BODIES: Record<string, unknown> = {
  'POST /admin/clients': { name: 'walk', organizations: ['rest-berlin'], scopes: ['menu:read'], refresh_tokens: true },
  'PATCH /admin/clients/{id}': { name: 'walked' },
};

/** A fresh berlin client with a secret and an API key, so destructive routes do not disturb the next one. */
async function fixture(n: number): Promise<{ id: string; sid: string; kid: string }> {
  const id = `walk-${n}`;
  const created = await h.call(h.tokens.operator, 'POST', '/admin/clients', {
    id,
    name: 'walk',
    organizations: ['rest-berlin'],
    scopes: ['menu:read'],
    refresh_tokens: true,
  });
  expect(created.status).toBe(201);
  const key = await h.call(h.tokens.operator, 'POST', `/admin/clients/${id}/api-keys`, {});
  return { id, sid: (created.body.secret as { id: string }).id, kid: (key.body.api_key as { id: string }).id };
}

describe('every admin route x every caller', () => {
  it('401 without a valid token, 403 outside the role or organization, success for the operator', async () => {
    expect(ADMIN_ROUTES.length).toBeGreaterThanOrEqual(17);
    let n = 0;
    for (const route of ADMIN_ROUTES) {
      const f = await fixture(n++);
      const path = route.path.replace('{id}', f.id).replace('{sid}', f.sid).replace('{kid}', f.kid);
      const body = BODIES[`${route.method} ${route.path}`] ?? (route.method === 'POST' ? {} : undefined);
      const label = `${route.method} ${route.path}`;
      const call = (token: string | undefined) => h.call(token, route.method, path, body);

      for (const token of [undefined, newToken(), h.tokens.expired]) {
        const res = await call(token);
        expect(res.status, `${label} with ${token === undefined ? 'no' : 'a bad'} token`).toBe(401);
        expect(res.headers.get('www-authenticate'), label).toMatch(/^Bearer realm="test-api-admin"/);
        expect(res.body.error).toBe('invalid_token');
      }

      const viewer = await call(h.tokens.viewer);
      if (route.write) {
        expect(viewer.status, `${label} as viewer`).toBe(403);
        expect(viewer.body.error).toBe('forbidden');
        expect(viewer.headers.get('www-authenticate')).toMatch(
          /^Bearer realm="test-api-admin", error="insufficient_scope"/,
        );
      } else expect(viewer.status, `${label} as viewer`).toBe(200);

      const other = await call(h.tokens.munich);
      const clientScoped = route.path.includes('{id}') || (route.path === '/admin/clients' && route.method === 'POST');
      if (clientScoped) expect(other.status, `${label} as another organization's admin`).toBe(403);
      else expect(other.status, `${label} as another organization's admin`).toBe(200);

      const operator = await call(h.tokens.operator);
      expect(operator.status, `${label} as operator: ${operator.text}`).toBeGreaterThanOrEqual(200);
      expect(operator.status, `${label} as operator: ${operator.text}`).toBeLessThan(300);
      const legacy = await h.call(h.tokens.legacy, 'GET', '/admin/catalog');
      expect(legacy.status).toBe(200);
    }
  });

  it('the OpenAPI document needs a token too', async () => {
    expect((await h.call(undefined, 'GET', '/admin/openapi.json')).status).toBe(401);
  });

  it('an unknown admin path is 401 without a token and 404 with one', async () => {
    expect((await h.call(undefined, 'GET', '/admin/nothing')).status).toBe(401);
    expect((await h.call(h.tokens.operator, 'GET', '/admin/nothing')).status).toBe(404);
  });
});

describe('the public listener', () => {
  it('never serves an admin path, whatever the token', async () => {
    for (const route of ADMIN_ROUTES) {
      const path = route.path.replace('{id}', 'walk-0').replace('{sid}', 'x').replace('{kid}', 'x');
      const withBody = route.method === 'POST' || route.method === 'PATCH';
      const headers = ['Authorization', `Bearer ${h.tokens.operator}`];
      if (withBody) headers.push('Content-Type', 'application/json', 'Content-Length', '2');
      const res = await send(h.gw.url, route.method, path, headers, withBody ? '{}' : undefined);
      expect(res.status, `${path} ${res.body}`).toBe(404);
      expect(res.body).not.toContain('"clients"');
    }
  });
});

describe('failed admin logins', () => {
  it('count against server.failed_auth_limit per address: then 429 with Retry-After', async () => {
    const limited = await startAdminGateway({ failedAuthLimit: '3/min' });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) statuses.push((await limited.call(newToken(), 'GET', '/admin/clients')).status);
      expect(statuses).toEqual([401, 401, 401, 429]);
      const blocked = await limited.call(limited.tokens.operator, 'GET', '/admin/clients');
      expect(blocked.status).toBe(429);
      expect(blocked.headers.get('retry-after')).toMatch(/^\d+$/);
    } finally {
      await limited.close();
    }
  });
});

describe('the admin listener address', () => {
  it('refuses to start on a non-loopback address without TLS', async () => {
    await expect(startAdminGateway({ extra: '', adminListen: '0.0.0.0:0' })).rejects.toThrow(
      /admin listener 0.0.0.0:0 is not a loopback address: it needs server.tls/,
    );
  });
});
