import { createServer, type AddressInfo } from 'node:net';

/**
 * A TCP port free on 127.0.0.1 a moment ago (listen on 0, read it, close), for a server that must be told its port
 * before it starts: redis-server, a gateway whose issuer URL names its port, nginx and a cluster in the bench.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
