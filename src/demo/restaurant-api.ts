import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The bundled demo upstream that `npm start` puts behind the gateway: a tiny restaurant and booking API with no auth
 * of its own. State lives in memory, per started server. Every response echoes, under `caller`, the identity the
 * gateway forwarded in the `X-Auth-*` headers, and under `received` the method and path that arrived here, so a
 * newcomer can see exactly what the upstream was told.
 *
 * Paths are the upstream paths (the gateway strips `/api`); a leading `/api` is accepted too, so the demo also works
 * behind a route without `strip_prefix`.
 */

export interface RestaurantApiOptions {
  /** default 3000; 0 picks a free port */
  port?: number;
  /** default 127.0.0.1 */
  host?: string;
}

export interface RestaurantApi {
  url: string;
  port: number;
  close(): Promise<void>;
}

export interface Caller {
  clientId: string | null;
  scopes: string[] | null;
  tenant: string | null;
  method: string | null;
}

interface Dish {
  id: number;
  name: string;
  category: string;
  price: number;
  currency: 'EUR';
  vegetarian: boolean;
}

interface OrderItem {
  dishId: number;
  name: string;
  quantity: number;
  price: number;
}

interface Order {
  id: number;
  table: string | null;
  items: OrderItem[];
  total: number;
  currency: 'EUR';
  status: 'received';
  createdAt: string;
}

interface Reservation {
  id: number;
  organization: string;
  name: string;
  partySize: number;
  time: string;
  createdAt: string;
}

type Json = Record<string, unknown>;

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

const MAX_BODY_BYTES = 1024 * 1024;
const ORGANIZATIONS = ['rest-berlin', 'rest-munich', 'rest-hamburg'] as const;

/** The fixed data a fresh server starts with. */
function seed() {
  const menu: Dish[] = [
    { id: 1, name: 'Margherita', category: 'pizza', price: 9.5, currency: 'EUR', vegetarian: true },
    { id: 2, name: 'Wiener Schnitzel', category: 'mains', price: 18.9, currency: 'EUR', vegetarian: false },
    { id: 3, name: 'Currywurst mit Pommes', category: 'mains', price: 8.5, currency: 'EUR', vegetarian: false },
    { id: 4, name: 'Käsespätzle', category: 'mains', price: 12.0, currency: 'EUR', vegetarian: true },
    { id: 5, name: 'Apfelstrudel', category: 'dessert', price: 6.5, currency: 'EUR', vegetarian: true },
  ];
  const orders: Order[] = [
    {
      id: 1,
      table: '7',
      items: [{ dishId: 1, name: 'Margherita', quantity: 2, price: 9.5 }],
      total: 19,
      currency: 'EUR',
      status: 'received',
      createdAt: '2025-01-01T12:00:00.000Z',
    },
  ];
  const reservations = new Map<string, Reservation[]>(ORGANIZATIONS.map((org) => [org, []]));
  reservations.get('rest-berlin')!.push({
    id: 1,
    organization: 'rest-berlin',
    name: 'Schmidt',
    partySize: 4,
    time: '2025-01-01T19:30:00.000Z',
    createdAt: '2025-01-01T10:00:00.000Z',
  });
  reservations.get('rest-munich')!.push({
    id: 2,
    organization: 'rest-munich',
    name: 'Huber',
    partySize: 2,
    time: '2025-01-02T20:00:00.000Z',
    createdAt: '2025-01-01T11:00:00.000Z',
  });
  return { menu, orders, reservations, nextDishId: 6, nextOrderId: 2, nextReservationId: 3 };
}

/** What the gateway said about the caller; each field is null when its header is absent. */
export function callerFromHeaders(headers: http.IncomingHttpHeaders): Caller {
  const one = (name: string): string | null => {
    const value = headers[name];
    if (value === undefined) return null;
    return Array.isArray(value) ? value.join(', ') : value;
  };
  const scopes = one('x-auth-scopes');
  return {
    clientId: one('x-auth-client-id'),
    scopes: scopes === null ? null : scopes.split(' ').filter((s) => s !== ''),
    tenant: one('x-auth-tenant'),
    method: one('x-auth-method'),
  };
}

export function startRestaurantApi(options: RestaurantApiOptions = {}): Promise<RestaurantApi> {
  const host = options.host ?? '127.0.0.1';
  const state = seed();

  async function route(method: string, segments: string[], url: URL, req: http.IncomingMessage) {
    const read = method === 'GET' || method === 'HEAD';
    const allow = (...methods: string[]) => {
      const list = methods.includes('GET') ? [...methods, 'HEAD'] : methods;
      if (!list.includes(method)) {
        throw new HttpError(405, 'method_not_allowed', `${method} is not supported here`, { Allow: list.join(', ') });
      }
    };
    const [first, second, third, fourth, ...rest] = segments;

    if (segments.length === 0) {
      allow('GET');
      return {
        status: 200,
        body: {
          name: 'scopegate demo restaurant API',
          endpoints: [
            'GET /menu',
            'GET /menu/:id',
            'POST /menu',
            'GET /orders',
            'POST /orders',
            'GET /organizations/:org/reservations',
            'POST /organizations/:org/reservations',
            'GET /public/status',
          ],
          organizations: ORGANIZATIONS,
        },
      };
    }

    if (first === 'public' && second === 'status' && segments.length === 2) {
      allow('GET');
      return { status: 200, body: { status: 'ok' } };
    }

    if (first === 'menu' && segments.length === 1) {
      allow('GET', 'POST');
      if (read) {
        const category = url.searchParams.get('category');
        const dishes = category === null ? state.menu : state.menu.filter((d) => d.category === category);
        return { status: 200, body: { dishes } };
      }
      const input = await readJson(req);
      const dish: Dish = {
        id: state.nextDishId++,
        name: requireString(input, 'name'),
        category: optionalString(input, 'category') ?? 'mains',
        price: requireNumber(input, 'price', 0),
        currency: 'EUR',
        vegetarian: optionalBoolean(input, 'vegetarian') ?? false,
      };
      state.menu.push(dish);
      return { status: 201, body: { dish } };
    }

    if (first === 'menu' && second !== undefined && segments.length === 2) {
      allow('GET');
      const dish = state.menu.find((d) => String(d.id) === second);
      if (!dish) throw new HttpError(404, 'not_found', `no dish with id ${second}`);
      return { status: 200, body: { dish } };
    }

    if (first === 'orders' && segments.length === 1) {
      allow('GET', 'POST');
      if (read) return { status: 200, body: { orders: state.orders } };
      const input = await readJson(req);
      const order = createOrder(input);
      state.orders.push(order);
      return { status: 201, body: { order } };
    }

    if (first === 'organizations' && third === 'reservations' && second !== undefined && rest.length === 0) {
      const list = state.reservations.get(second);
      if (!list) throw new HttpError(404, 'not_found', `unknown organization ${second}`);
      if (fourth === undefined) {
        allow('GET', 'POST');
        if (read) return { status: 200, body: { organization: second, reservations: list } };
        const input = await readJson(req);
        const time = requireString(input, 'time');
        if (Number.isNaN(Date.parse(time))) throw badRequest('"time" must be an ISO 8601 date-time');
        const reservation: Reservation = {
          id: state.nextReservationId++,
          organization: second,
          name: requireString(input, 'name'),
          partySize: requireInteger(input, 'partySize', 1, 50),
          time: new Date(time).toISOString(),
          createdAt: new Date().toISOString(),
        };
        list.push(reservation);
        return { status: 201, body: { reservation } };
      }
      allow('GET');
      const reservation = list.find((r) => String(r.id) === fourth);
      if (!reservation) throw new HttpError(404, 'not_found', `no reservation ${fourth} at ${second}`);
      return { status: 200, body: { reservation } };
    }

    throw new HttpError(404, 'not_found', `no such endpoint: ${url.pathname}`);
  }

  function createOrder(input: Json): Order {
    const rawItems = input.items;
    if (!Array.isArray(rawItems) || rawItems.length === 0) throw badRequest('"items" must be a non-empty array');
    const items = rawItems.map((raw: unknown, i): OrderItem => {
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
        throw badRequest(`items[${i}] must be an object`);
      }
      const item = raw as Json;
      const dishId = requireInteger(item, 'dishId', 1, Number.MAX_SAFE_INTEGER, `items[${i}].`);
      const quantity = requireInteger(item, 'quantity', 1, 100, `items[${i}].`);
      const dish = state.menu.find((d) => d.id === dishId);
      if (!dish) throw badRequest(`items[${i}].dishId: no dish with id ${dishId}`);
      return { dishId, name: dish.name, quantity, price: dish.price };
    });
    const table = input.table;
    if (table !== undefined && typeof table !== 'string' && typeof table !== 'number') {
      throw badRequest('"table" must be a string or a number');
    }
    const cents = items.reduce((sum, item) => sum + Math.round(item.price * 100) * item.quantity, 0);
    return {
      id: state.nextOrderId++,
      table: table === undefined ? null : String(table),
      items,
      total: cents / 100,
      currency: 'EUR',
      status: 'received',
      createdAt: new Date().toISOString(),
    };
  }

  const server = http.createServer((req, res) => {
    const method = req.method ?? 'GET';
    const caller = callerFromHeaders(req.headers);
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://upstream.invalid');
    } catch {
      url = new URL('http://upstream.invalid/');
    }
    const received = { method, path: url.pathname, query: url.search };
    const send = (status: number, body: Json, headers: Record<string, string> = {}) => {
      const text = `${JSON.stringify({ ...body, caller, received }, null, 2)}\n`;
      res.writeHead(status, {
        ...headers,
        'Content-Type': 'application/json',
        'Content-Length': Buffer.byteLength(text),
      });
      res.end(method === 'HEAD' ? undefined : text);
    };

    Promise.resolve()
      .then(() => route(method, pathSegments(url.pathname), url, req))
      .then(
        ({ status, body }) => send(status, body),
        (err: unknown) => {
          if (err instanceof HttpError) {
            send(err.status, { error: err.code, error_description: err.message }, err.headers);
          } else {
            send(500, { error: 'server_error', error_description: 'the demo API failed' });
          }
          // Do not leave an unread body behind on a kept-alive connection.
          if (!req.complete) req.resume();
        },
      )
      .catch(() => res.destroy());
  });

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 3000, host, () => {
      server.off('error', reject);
      const port = (server.address() as AddressInfo).port;
      const urlHost = host.includes(':') ? `[${host}]` : host;
      resolve({
        url: `http://${urlHost}:${port}`,
        port,
        close: () =>
          new Promise<void>((done, fail) => {
            server.close((err) => (err ? fail(err) : done()));
            server.closeAllConnections();
          }),
      });
    });
  });
}

/** `/api/menu/3/` -> ['menu', '3']; percent-escapes decoded; a leading `api` segment dropped. */
function pathSegments(pathname: string): string[] {
  const segments = pathname.split('/').filter((s) => s !== '');
  if (segments[0] === 'api') segments.shift();
  return segments.map((s) => {
    try {
      return decodeURIComponent(s);
    } catch {
      throw badRequest(`bad percent-encoding in path segment "${s}"`);
    }
  });
}

function badRequest(message: string): HttpError {
  return new HttpError(400, 'invalid_request', message);
}

function readJson(req: http.IncomingMessage): Promise<Json> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        failed = true;
        reject(
          new HttpError(413, 'payload_too_large', `the body is larger than ${MAX_BODY_BYTES} bytes`, {
            Connection: 'close',
          }),
        );
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', (err) => {
      failed = true;
      reject(err);
    });
    req.on('end', () => {
      if (failed) return;
      const text = Buffer.concat(chunks).toString('utf8');
      if (text.trim() === '') return reject(badRequest('the body must be a JSON object'));
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (err) {
        return reject(badRequest(`the body is not valid JSON: ${(err as Error).message}`));
      }
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        return reject(badRequest('the body must be a JSON object'));
      }
      resolve(value as Json);
    });
  });
}

function requireString(input: Json, key: string): string {
  const value = input[key];
  if (typeof value !== 'string' || value.trim() === '') throw badRequest(`"${key}" must be a non-empty string`);
  return value;
}

function optionalString(input: Json, key: string): string | undefined {
  return input[key] === undefined ? undefined : requireString(input, key);
}

function optionalBoolean(input: Json, key: string): boolean | undefined {
  const value = input[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw badRequest(`"${key}" must be true or false`);
  return value;
}

function requireNumber(input: Json, key: string, min: number): number {
  const value = input[key];
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw badRequest(`"${key}" must be a number of at least ${min}`);
  }
  return value;
}

function requireInteger(input: Json, key: string, min: number, max: number, prefix = ''): number {
  const value = input[key];
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw badRequest(`${prefix}${key} must be an integer from ${min} to ${max}`);
  }
  return value;
}
