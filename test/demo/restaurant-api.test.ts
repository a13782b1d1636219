import http from 'node:http';
import net from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startRestaurantApi } from '../../src/demo/restaurant-api.js';
import type { RestaurantApi } from '../../src/demo/restaurant-api.js';

const NO_CALLER = { clientId: null, scopes: null, tenant: null, method: null };

describe('demo restaurant API', () => {
  let api: RestaurantApi;

  beforeEach(async () => {
    api = await startRestaurantApi({ port: 0 });
  });

  afterEach(async () => {
    await api.close();
  });

  async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
    const init: RequestInit = { method, headers: { ...headers } };
    if (body !== undefined) {
      init.body = typeof body === 'string' ? body : JSON.stringify(body);
      (init.headers as Record<string, string>)['content-type'] = 'application/json';
    }
    const res = await fetch(`${api.url}${path}`, init);
    const text = await res.text();
    return { status: res.status, headers: res.headers, json: text === '' ? undefined : JSON.parse(text) };
  }

  it('listens on a random port on 127.0.0.1 and reports its url', () => {
    expect(api.port).toBeGreaterThan(0);
    expect(api.url).toBe(`http://127.0.0.1:${api.port}`);
  });

  it('GET /public/status answers ok as JSON', async () => {
    const res = await call('GET', '/public/status');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(res.json).toMatchObject({ status: 'ok', caller: NO_CALLER });
  });

  describe('caller echo', () => {
    it('echoes the identity headers the gateway set', async () => {
      const res = await call('GET', '/menu', undefined, {
        'X-Auth-Client-Id': 'pos-partner',
        'X-Auth-Scopes': 'menu:read orders:write',
        'X-Auth-Tenant': 'rest-berlin',
        'X-Auth-Method': 'bearer',
      });
      expect(res.json.caller).toStrictEqual({
        clientId: 'pos-partner',
        scopes: ['menu:read', 'orders:write'],
        tenant: 'rest-berlin',
        method: 'bearer',
      });
    });

    it('reports null for each absent header', async () => {
      const res = await call('GET', '/menu', undefined, { 'X-Auth-Client-Id': 'kiosk' });
      expect(res.json.caller).toStrictEqual({ ...NO_CALLER, clientId: 'kiosk' });
    });

    it('echoes the caller on errors too, and what arrived here', async () => {
      const res = await call('GET', '/nope?x=1', undefined, { 'X-Auth-Client-Id': 'kiosk' });
      expect(res.status).toBe(404);
      expect(res.json.caller.clientId).toBe('kiosk');
      expect(res.json.received).toStrictEqual({ method: 'GET', path: '/nope', query: '?x=1' });
    });
  });

  describe('menu', () => {
    it('lists dishes', async () => {
      const res = await call('GET', '/menu');
      expect(res.status).toBe(200);
      expect(res.json.dishes.length).toBeGreaterThanOrEqual(3);
      expect(res.json.dishes[0]).toMatchObject({ id: 1, name: expect.any(String), price: expect.any(Number) });
    });

    it('filters by category', async () => {
      const res = await call('GET', '/menu?category=dessert');
      expect(res.json.dishes.length).toBeGreaterThan(0);
      expect(res.json.dishes.every((d: { category: string }) => d.category === 'dessert')).toBe(true);
    });

    it('gets one dish by id, 404 for an unknown id', async () => {
      expect((await call('GET', '/menu/2')).json.dish).toMatchObject({ id: 2 });
      const missing = await call('GET', '/menu/999');
      expect(missing.status).toBe(404);
      expect(missing.json).toMatchObject({ error: 'not_found' });
    });

    it('adds a dish with POST, which then shows up', async () => {
      const res = await call('POST', '/menu', {
        name: 'Flammkuchen',
        price: 11.5,
        category: 'mains',
        vegetarian: true,
      });
      expect(res.status).toBe(201);
      expect(res.headers.get('content-type')).toBe('application/json');
      expect(res.json.dish).toMatchObject({ name: 'Flammkuchen', price: 11.5, vegetarian: true });
      const id = res.json.dish.id;
      expect((await call('GET', `/menu/${id}`)).json.dish.name).toBe('Flammkuchen');
      expect((await call('GET', '/menu')).json.dishes.map((d: { id: number }) => d.id)).toContain(id);
    });

    it('rejects an invalid dish with 400', async () => {
      const res = await call('POST', '/menu', { name: '', price: -1 });
      expect(res.status).toBe(400);
      expect(res.json).toMatchObject({ error: 'invalid_request', error_description: expect.any(String) });
    });

    it('answers 405 with Allow for a method it does not support', async () => {
      const res = await call('DELETE', '/menu/1');
      expect(res.status).toBe(405);
      expect(res.headers.get('allow')).toBe('GET, HEAD');
    });

    it('answers HEAD like GET without a body', async () => {
      const res = await fetch(`${api.url}/menu`, { method: 'HEAD' });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/json');
      expect(await res.text()).toBe('');
    });
  });

  describe('orders', () => {
    it('lists orders', async () => {
      const res = await call('GET', '/orders');
      expect(res.status).toBe(200);
      expect(Array.isArray(res.json.orders)).toBe(true);
    });

    it('creates an order from the menu with 201 and computes the total', async () => {
      const res = await call('POST', '/orders', {
        table: 12,
        items: [
          { dishId: 1, quantity: 2 },
          { dishId: 5, quantity: 1 },
        ],
      });
      expect(res.status).toBe(201);
      const menu = (await call('GET', '/menu')).json.dishes as Array<{ id: number; price: number }>;
      const price = (id: number) => menu.find((d) => d.id === id)!.price;
      expect(res.json.order).toMatchObject({ table: '12', status: 'received', total: 2 * price(1) + price(5) });
      const list = await call('GET', '/orders');
      expect(list.json.orders.map((o: { id: number }) => o.id)).toContain(res.json.order.id);
    });

    it('rejects an order without items or with an unknown dish', async () => {
      expect((await call('POST', '/orders', {})).status).toBe(400);
      expect((await call('POST', '/orders', { items: [{ dishId: 999, quantity: 1 }] })).status).toBe(400);
      expect((await call('POST', '/orders', { items: [{ dishId: 1, quantity: 0 }] })).status).toBe(400);
    });
  });

  describe('reservations', () => {
    it('lists the reservations of a known organization', async () => {
      for (const org of ['rest-berlin', 'rest-munich', 'rest-hamburg']) {
        const res = await call('GET', `/organizations/${org}/reservations`);
        expect(res.status).toBe(200);
        expect(res.json.organization).toBe(org);
        expect(Array.isArray(res.json.reservations)).toBe(true);
      }
    });

    it('creates a reservation with 201, visible only in its organization', async () => {
      const res = await call(
        'POST',
        '/organizations/rest-hamburg/reservations',
        { name: 'Meyer', partySize: 3, time: '2030-05-01T19:00:00Z' },
        { 'X-Auth-Tenant': 'rest-hamburg' },
      );
      expect(res.status).toBe(201);
      expect(res.json.reservation).toMatchObject({ organization: 'rest-hamburg', name: 'Meyer', partySize: 3 });
      expect(res.json.caller.tenant).toBe('rest-hamburg');
      const id = res.json.reservation.id;
      const hamburg = await call('GET', '/organizations/rest-hamburg/reservations');
      expect(hamburg.json.reservations.map((r: { id: number }) => r.id)).toContain(id);
      const berlin = await call('GET', '/organizations/rest-berlin/reservations');
      expect(berlin.json.reservations.map((r: { id: number }) => r.id)).not.toContain(id);
      expect((await call('GET', `/organizations/rest-hamburg/reservations/${id}`)).json.reservation.id).toBe(id);
    });

    it('answers 404 for an unknown organization', async () => {
      const res = await call('GET', '/organizations/rest-paris/reservations');
      expect(res.status).toBe(404);
      expect(res.json.error).toBe('not_found');
      expect((await call('POST', '/organizations/rest-paris/reservations', { name: 'x' })).status).toBe(404);
    });

    it('rejects an invalid reservation with 400', async () => {
      const res = await call('POST', '/organizations/rest-berlin/reservations', { name: 'A', partySize: 0 });
      expect(res.status).toBe(400);
    });
  });

  describe('errors', () => {
    it('answers 404 JSON for an unknown path', async () => {
      const res = await call('GET', '/kitchen/secrets');
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toBe('application/json');
      expect(res.json).toMatchObject({ error: 'not_found', error_description: expect.any(String) });
    });

    it('answers 400 JSON for a body that is not JSON', async () => {
      for (const path of ['/menu', '/orders', '/organizations/rest-berlin/reservations']) {
        const res = await call('POST', path, '{"name": ');
        expect(res.status).toBe(400);
        expect(res.headers.get('content-type')).toBe('application/json');
        expect(res.json.error).toBe('invalid_request');
      }
    });

    it('answers 400 for an empty body and for JSON that is not an object', async () => {
      expect((await call('POST', '/menu', '')).status).toBe(400);
      expect((await call('POST', '/menu', '[1, 2]')).status).toBe(400);
    });

    it('answers 400 for bad percent-encoding in the path', async () => {
      const res = await call('GET', '/menu/%E0%A4%A');
      expect(res.status).toBe(400);
    });

    it('answers 413 for a body over 1 MiB', async () => {
      const res = await call('POST', '/menu', JSON.stringify({ name: 'x'.repeat(2 * 1024 * 1024), price: 1 }));
      expect(res.status).toBe(413);
    });

    it('accepts a chunked body without Content-Length', async () => {
      const status = await new Promise<number>((resolve, reject) => {
        const req = http.request(
          `${api.url}/menu`,
          { method: 'POST', headers: { 'content-type': 'application/json' } },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on('error', reject);
        req.write('{"name": "Brez');
        req.end('n", "price": 2.5}');
      });
      expect(status).toBe(201);
    });
  });

  it('also accepts the /api prefix, for a route without strip_prefix', async () => {
    const res = await call('GET', '/api/organizations/rest-berlin/reservations');
    expect(res.status).toBe(200);
    expect(res.json.received.path).toBe('/api/organizations/rest-berlin/reservations');
  });

  it('keeps state per server', async () => {
    await call('POST', '/menu', { name: 'Only here', price: 1 });
    const other = await startRestaurantApi({ port: 0 });
    try {
      const res = await fetch(`${other.url}/menu`);
      const names = ((await res.json()) as { dishes: Array<{ name: string }> }).dishes.map((d) => d.name);
      expect(names).not.toContain('Only here');
    } finally {
      await other.close();
    }
  });

  it('close() resolves even with a kept-alive connection open', async () => {
    const agent = new http.Agent({ keepAlive: true });
    await new Promise<void>((resolve, reject) => {
      http.get(`${api.url}/menu`, { agent }, (res) => res.resume().on('end', resolve)).on('error', reject);
    });
    const other = api;
    api = await startRestaurantApi({ port: 0 }); // afterEach closes this one
    await other.close();
    agent.destroy();
  });

  it('rejects when the port is taken', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      await expect(startRestaurantApi({ port })).rejects.toMatchObject({ code: 'EADDRINUSE' });
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});
