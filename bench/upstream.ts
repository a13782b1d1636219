/**
 * The upstream every setup forwards to: node:http answering a tiny JSON body, recording nothing. The same child
 * serves the JWKS documents (local issuer and a trusted IdP) on a second port, so the JWT stacks fetch keys from a
 * real endpoint.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serveSetup } from './child.js';
import { UPSTREAM_BODY } from './setups/env.js';

function listen(server: Server): Promise<string> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)),
  );
}

serveSetup(async () => {
  const body = Buffer.from(UPSTREAM_BODY);
  const upstream = createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
    // drain a request body, if any, then answer
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
    res.end(body);
  });
  // GET /jwks/NAME serves $BENCH_DIR/jwks-NAME.json (written by the parent once the keys exist)
  const dir = process.env.BENCH_DIR ?? '.';
  const keys = createServer((req, res) => {
    const name = /^\/jwks\/([a-z]+)$/.exec(req.url ?? '')?.[1];
    if (!name) return void res.writeHead(404).end();
    readFile(`${dir}/jwks-${name}.json`).then(
      (doc) => res.writeHead(200, { 'content-type': 'application/json' }).end(doc),
      () => res.writeHead(404).end(),
    );
  });
  const url = await listen(upstream);
  const jwksBase = await listen(keys);
  return { url, extra: { jwks: `${jwksBase}/jwks` } };
});
