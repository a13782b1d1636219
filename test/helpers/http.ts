import { request } from 'node:http';
import { connect } from 'node:net';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  json: () => Record<string, unknown>;
}

/**
 * A request with headers exactly as given, duplicates included (fetch would merge or refuse them).
 * `headers` is a flat list: [name, value, name, value, ...].
 */
export function send(
  base: string,
  method: string,
  path: string,
  headers: string[] = [],
  body?: string | Buffer,
  /** send from this local address (another loopback address stands for another client) on a fresh connection */
  localAddress?: string,
): Promise<RawResponse> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    // With a raw header list Node adds no Host; HTTP/1.1 servers refuse a request without one.
    const all = headers.some((h, i) => i % 2 === 0 && h.toLowerCase() === 'host')
      ? headers
      : ['Host', url.host, ...headers];
    const from = localAddress === undefined ? {} : { localAddress, agent: false as const };
    const req = request({ host: url.hostname, port: url.port, method, path, headers: all, ...from }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({
          status: res.statusCode!,
          headers: res.headers,
          body: text,
          json: () => JSON.parse(text) as Record<string, unknown>,
        });
      });
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** Writes raw bytes on a TCP socket and returns everything the server answered until it closed or went quiet. */
export function rawRequest(base: string, bytes: string, quietMs = 300): Promise<string> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname);
    let out = '';
    let timer: NodeJS.Timeout | undefined;
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(out);
    };
    socket.on('data', (d: Buffer) => {
      out += d.toString('latin1');
      clearTimeout(timer);
      timer = setTimeout(finish, quietMs);
    });
    socket.on('end', finish);
    socket.on('error', (e) => (out ? finish() : reject(e)));
    socket.write(bytes);
    timer = setTimeout(finish, 3000);
  });
}

export async function getToken(
  base: string,
  clientId: string,
  secret: string,
  params: Record<string, string> = {},
): Promise<Record<string, unknown>> {
  const res = await fetch(`${base}/oauth/token`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-www-form-urlencoded',
      Authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`,
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', ...params }),
  });
  const body = (await res.json()) as Record<string, unknown>;
  if (res.status !== 200) throw new Error(`token request failed: ${res.status} ${JSON.stringify(body)}`);
  return body;
}
