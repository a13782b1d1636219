/** Property: whatever body, query or content type arrives on any admin route, the answer is a 2xx or 4xx, never 5xx. */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_ROUTES } from '../../../src/admin/routes/index.js';
import { startAdminGateway, type AdminHarness } from './harness.js';

let h: AdminHarness;
beforeAll(async () => {
  h = await startAdminGateway();
  const res = await h.call(h.tokens.operator, 'POST', '/admin/clients', {
    id: 'fuzz',
    name: 'F',
    scopes: ['menu:read'],
  });
  expect(res.status).toBe(201);
});
afterAll(async () => {
  await h?.close();
});

const FIELDS = [
  'id',
  'name',
  'provider_url',
  'contact',
  'organizations',
  'scopes',
  'refresh_tokens',
  'rate_limit',
  'expires_at',
  'overlap',
  'expires_in',
  'scope',
  'organization_id',
];

const body = fc.oneof(
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.dictionary(fc.constantFrom(...FIELDS), fc.jsonValue()).map((v) => JSON.stringify(v)),
  fc.string(),
);

describe('admin routes under arbitrary input', () => {
  it('never answer 5xx', async () => {
    const writes = ADMIN_ROUTES.filter((r) => r.method === 'POST' || r.method === 'PATCH');
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...writes),
        body,
        fc.constantFrom('application/json', 'text/plain', 'application/json; charset=latin1'),
        async (route, text, type) => {
          const path = route.path.replace('{id}', 'fuzz').replace('{sid}', 'x').replace('{kid}', 'x');
          const res = await h.call(h.tokens.operator, route.method, path, text, { 'Content-Type': type });
          expect(res.status, `${route.method} ${path} ${text} -> ${res.text}`).toBeLessThan(500);
          if (res.status >= 400) expect(res.body.error).toEqual(expect.any(String));
        },
      ),
      { numRuns: 300 },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(
          fc.constantFrom('client', 'organization', 'actor', 'since', 'until', 'cursor', 'limit'),
          fc.string(),
        ),
        async (q) => {
          const res = await h.call(h.tokens.operator, 'GET', `/admin/audit?${new URLSearchParams(q).toString()}`);
          expect(res.status, res.text).toBeLessThan(500);
        },
      ),
      { numRuns: 100 },
    );
  }, 120_000);
});
