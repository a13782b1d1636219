/** Nothing is acknowledged unstored: with the store gone, every admin write answers 503 with Retry-After. */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startAdminGateway } from './harness.js';

describe('admin writes while the store fails', () => {
  it('answer 503 temporarily_unavailable with Retry-After, never a 2xx', async () => {
    const h = await startAdminGateway();
    try {
      const created = await h.call(h.tokens.operator, 'POST', '/admin/clients', { id: 'c1', name: 'C', scopes: [] });
      expect(created.status).toBe(201);
      for (const suffix of ['', '-wal', '-shm']) rmSync(join(h.gw.dir, 'data', `state.db${suffix}`), { force: true });
      const writes: [string, string, unknown][] = [
        ['POST', '/admin/clients', { id: 'c2', name: 'C', scopes: [] }],
        ['PATCH', '/admin/clients/c1', { name: 'D' }],
        ['POST', '/admin/clients/c1/secrets', {}],
        ['POST', '/admin/clients/c1/api-keys', {}],
        ['POST', '/admin/clients/c1/revoke', undefined],
        ['POST', '/admin/clients/file-client/revoke', undefined],
        ['DELETE', '/admin/clients/c1', undefined],
      ];
      for (const [method, path, body] of writes) {
        const res = await h.call(h.tokens.operator, method, path, body);
        expect(res.status, `${method} ${path}`).toBe(503);
        expect(res.body.error).toBe('temporarily_unavailable');
        expect(res.headers.get('retry-after')).toBe('1');
      }
    } finally {
      await h.close();
    }
  });
});
