/**
 * The OpenAPI document served at /admin/openapi.json (valid basic shape, every route of the router in it), and two
 * gateways on one SQLite file: a client created, changed or deleted through one is seen by the other within the
 * propagation bound (1 s).
 */
import { Ajv } from 'ajv';
import express from 'express';
import type { AddressInfo } from 'node:net';
import { oauthErrorHandler, scopegate } from '../../../src/index.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_ROUTES } from '../../../src/admin/routes/index.js';
import { send } from '../../helpers/http.js';
import { pollUntil } from '../issuer/harness.js';
import { newTokens, startAdminGateway, type AdminHarness } from './harness.js';

let a: AdminHarness;
let b: AdminHarness;
beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'scopegate-two-'));
  const tokens = newTokens();
  a = await startAdminGateway({ dir, tokens, failedAuthLimit: '100000/min' });
  b = await startAdminGateway({ dir, tokens, failedAuthLimit: '100000/min' });
});
afterAll(async () => {
  await a?.close();
  await b?.close();
});

const OPENAPI_SHAPE = {
  type: 'object',
  required: ['openapi', 'info', 'paths'],
  properties: {
    openapi: { type: 'string', pattern: '^3\\.1\\.\\d+$' },
    info: { type: 'object', required: ['title', 'version'] },
    paths: {
      type: 'object',
      propertyNames: { pattern: '^/admin/' },
      additionalProperties: {
        type: 'object',
        propertyNames: { enum: ['get', 'post', 'patch', 'delete', 'put', 'parameters'] },
        additionalProperties: {
          type: 'object',
          required: ['responses', 'operationId'],
          properties: { responses: { type: 'object', minProperties: 1 } },
        },
      },
    },
  },
};

describe('GET /admin/openapi.json', () => {
  it('is OpenAPI 3.1 of basic shape and names every route of the router', async () => {
    const res = await a.call(a.tokens.viewer, 'GET', '/admin/openapi.json');
    expect(res.status).toBe(200);
    const doc = res.body as { paths: Record<string, Record<string, unknown>> };
    const validate = new Ajv({ allErrors: true }).compile(OPENAPI_SHAPE);
    expect(validate(doc), JSON.stringify(validate.errors)).toBe(true);
    for (const route of ADMIN_ROUTES)
      expect(doc.paths[route.path]?.[route.method.toLowerCase()], `${route.method} ${route.path}`).toBeDefined();
    const ids = Object.values(doc.paths).flatMap((ops) =>
      Object.values(ops).map((op) => (op as { operationId: string }).operationId),
    );
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('two gateways on one store', () => {
  it('a client created on one authenticates on the other within 1 s; its deletion applies there too', async () => {
    const created = await a.call(a.tokens.operator, 'POST', '/admin/clients', {
      id: 'shared',
      name: 'Shared',
      scopes: ['menu:read'],
    });
    expect(created.status).toBe(201);
    const secret = (created.body.secret as { value: string }).value;
    const works = async () =>
      (await send(b.gw.url, 'GET', '/api/menu/1', ['X-Client-Id', 'shared', 'X-Client-Secret', secret])).status === 200;
    const seen = await pollUntil(works, 1000, 20);
    console.log(`propagation of a created client: ${seen?.toFixed(0)} ms`);
    expect(seen).toBeDefined();

    const key = await b.call(b.tokens.operator, 'POST', '/admin/clients/shared/api-keys', {});
    const value = (key.body.api_key as { value: string }).value;
    const keyWorks = async () => (await send(a.gw.url, 'GET', '/api/menu/1', ['X-Api-Key', value])).status === 200;
    expect(await pollUntil(keyWorks, 1000, 20)).toBeDefined();

    expect((await b.call(b.tokens.operator, 'DELETE', '/admin/clients/shared')).status).toBe(204);
    const refused = async () =>
      (await send(a.gw.url, 'GET', '/api/menu/1', ['X-Client-Id', 'shared', 'X-Client-Secret', secret])).status === 401;
    const gone = await pollUntil(refused, 1000, 20);
    console.log(`propagation of a deletion: ${gone?.toFixed(0)} ms`);
    expect(gone).toBeDefined();
    expect(await pollUntil(async () => !(await keyWorks()), 1000, 20)).toBeDefined();
  });

  it('measures the propagation bound over 20 creations (printed)', async () => {
    const samples: number[] = [];
    for (let i = 0; i < 20; i++) {
      const created = await a.call(a.tokens.operator, 'POST', '/admin/clients', {
        id: `p-${i}`,
        name: 'P',
        scopes: ['menu:read'],
      });
      const secret = (created.body.secret as { value: string }).value;
      const t = await pollUntil(
        async () =>
          (await send(b.gw.url, 'GET', '/api/menu/1', ['X-Client-Id', `p-${i}`, 'X-Client-Secret', secret])).status ===
          200,
        1000,
        10,
      );
      expect(t).toBeDefined();
      samples.push(t!);
    }
    samples.sort((x, y) => x - y);
    console.log(
      `propagation ms: min ${samples[0]!.toFixed(0)} p50 ${samples[10]!.toFixed(0)} max ${samples[19]!.toFixed(0)}`,
    );
  });
});

describe('the Express middleware on the same store', () => {
  it('authenticates a client created through the admin API, and stops once it is deleted', async () => {
    const created = await a.call(a.tokens.operator, 'POST', '/admin/clients', {
      id: 'lib-client',
      name: 'Lib',
      scopes: ['menu:read'],
    });
    const secret = (created.body.secret as { value: string }).value;
    const mw = scopegate(a.gw.configPath);
    await mw.ready;
    const app = express();
    app.use(mw);
    app.get('/api/menu/:x', (req, res) => {
      res.json({ client: req.auth?.clientId });
    });
    app.use(oauthErrorHandler());
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const headers = ['X-Client-Id', 'lib-client', 'X-Client-Secret', secret];
      const ok = await send(url, 'GET', '/api/menu/1', headers);
      expect(ok.status).toBe(200);
      expect(ok.json()).toEqual({ client: 'lib-client' });
      expect((await a.call(a.tokens.operator, 'DELETE', '/admin/clients/lib-client')).status).toBe(204);
      expect(
        await pollUntil(async () => (await send(url, 'GET', '/api/menu/1', headers)).status === 401, 1000, 20),
      ).toBeDefined();
    } finally {
      server.close();
      await mw.close();
    }
  });
});
