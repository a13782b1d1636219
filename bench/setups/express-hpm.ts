/** Peer: Express 5 + http-proxy-middleware, no auth at all (the floor of an Express-based gateway). */
import { Agent } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { createProxyMiddleware } from 'http-proxy-middleware';
import { serveSetup } from '../child.js';
import { benchEnv } from './env.js';

serveSetup(async () => {
  const env = benchEnv();
  const app = express();
  app.disable('x-powered-by');
  const agent = new Agent({ keepAlive: true, maxSockets: 512 });
  // mounted at /api: Express strips the mount path, as scopegate's strip_prefix does
  app.use('/api', createProxyMiddleware({ target: env.upstream, changeOrigin: true, agent }));
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
});
