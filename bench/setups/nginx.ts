/**
 * Reference, when nginx is installed: nginx as the reverse proxy, no auth, one worker process, keep-alive to the
 * upstream (`keepalive 64` with HTTP/1.1), `/api` stripped as the other setups do, no access log. What a proxy that
 * is not Node costs on this machine; the pipe setup is the Node floor.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serveSetup } from '../child.js';
import { benchEnv } from './env.js';
// the tests' helper: dependency-free, one implementation for the whole repository
import { freePort } from '../../test/helpers/free-port.js';
import { waitForAnswer } from './wait-for-answer.js';

serveSetup(async () => {
  const upstream = new URL(benchEnv().upstream);
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'scopegate-bench-nginx-'));
  writeFileSync(
    join(dir, 'nginx.conf'),
    `daemon off;
master_process on;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log stderr error;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  keepalive_requests 1000000;
  upstream api { server ${upstream.host}; keepalive 64; keepalive_requests 1000000; }
  server {
    listen 127.0.0.1:${port};
    location /api/ {
      proxy_pass http://api/;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
`,
  );
  const nginx = spawn('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: ['ignore', 'ignore', 'inherit'] });
  // nginx's workers outlive a killed master: it is asked to stop (SIGTERM: fast shutdown) when this process exits
  process.on('exit', () => nginx.kill('SIGTERM'));
  await Promise.race([
    waitForAnswer(`http://127.0.0.1:${port}/api/menu/items`, 200),
    new Promise((_, reject) => nginx.once('exit', (code) => reject(new Error(`nginx exited (${code})`)))),
  ]);
  return { url: `http://127.0.0.1:${port}` };
});
