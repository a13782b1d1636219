/**
 * A real RFC 7662 introspection endpoint on 127.0.0.1 that records every token it is asked about and answers what
 * the test sets (default: active, client `shared`, scope `menu:read`, expiring in a minute).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface IntrospectionServer {
  /** the endpoint URL */
  url: string;
  /** the `token` form values received, in order */
  tokens: string[];
  /** the answer to send (a function of the token) */
  answer(fn: (token: string) => Record<string, unknown>): void;
  close(): Promise<void>;
}

export async function startIntrospectionServer(): Promise<IntrospectionServer> {
  const tokens: string[] = [];
  let answer = (_token: string): Record<string, unknown> => ({
    active: true,
    client_id: 'shared',
    scope: 'menu:read',
    exp: Math.floor(Date.now() / 1000) + 60,
  });
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const token = new URLSearchParams(Buffer.concat(chunks).toString('utf8')).get('token') ?? '';
      tokens.push(token);
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(answer(token)));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/introspect`,
    tokens,
    answer: (fn) => void (answer = fn),
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
