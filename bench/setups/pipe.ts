/**
 * Reference: a bare node:http pipe, no auth, no logging, no metrics: each request is forwarded on a keep-alive
 * agent with its headers, `/api` stripped as the other setups do, and the answer piped back. What a Node proxy costs
 * at the least; the distance to it is what scopegate's checks cost.
 */
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serveSetup } from '../child.js';
import { benchEnv } from './env.js';

serveSetup(async () => {
  const upstream = new URL(benchEnv().upstream);
  const agent = new Agent({ keepAlive: true, maxSockets: 512 });
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').startsWith('/api/') ? req.url!.slice(4) : req.url!;
    const out = request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path, headers: req.headers, agent },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    out.on('error', () => {
      res.writeHead(502).end();
    });
    req.pipe(out);
  });
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
});
