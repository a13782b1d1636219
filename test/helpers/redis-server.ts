/**
 * A real `redis-server` for tests: started on a free port with its own temp dir, and faults injected for real
 * (kill -9, SIGSTOP/SIGCONT, restart on the same port and dir so an append-only file is replayed).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './free-port.js';

export const REDIS_SERVER =
  process.env.REDIS_SERVER ?? (fs.existsSync('/usr/bin/redis-server') ? '/usr/bin/redis-server' : 'redis-server');

export interface RedisServerOptions {
  /** `yes` (default) replays acknowledged writes after a restart; `no` with `save ''` keeps nothing */
  appendonly?: 'yes' | 'no';
  appendfsync?: 'always' | 'everysec' | 'no';
  /** extra `--name value` arguments */
  args?: string[];
}

export interface RedisServer {
  port: number;
  dir: string;
  url: string;
  /** SIGKILL: the process is gone at once, connections are reset */
  kill(): Promise<void>;
  /** SIGSTOP: the port stays open but nothing answers */
  pause(): void;
  resume(): void;
  /** starts again on the same port and dir (after kill or stop) */
  restart(): Promise<void>;
  /** SIGTERM, waits for exit, removes the dir */
  stop(): Promise<void>;
}

function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        // PING, so we know the server has loaded its data and answers
        socket.write('PING\r\n');
      });
      socket.once('data', (data) => {
        socket.destroy();
        if (data.toString().startsWith('+PONG')) resolve();
        else retry();
      });
      socket.once('error', () => {
        socket.destroy();
        retry();
      });
    };
    const retry = () => {
      if (Date.now() > deadline) reject(new Error(`redis-server on port ${port} did not start`));
      else setTimeout(attempt, 20);
    };
    attempt();
  });
}

export async function startRedis(options: RedisServerOptions = {}): Promise<RedisServer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scopegate-redis-'));
  let port = await freePort();
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const launch = async () => {
    const args = [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--save',
      '',
      '--appendonly',
      options.appendonly ?? 'yes',
      '--appendfsync',
      options.appendfsync ?? 'everysec',
      '--daemonize',
      'no',
      '--protected-mode',
      'no',
      ...(options.args ?? []),
    ];
    const proc = spawn(REDIS_SERVER, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    child = proc;
    exited = new Promise((resolve) => proc.once('exit', () => resolve()));
    await waitForPort(port, 10_000);
  };

  try {
    await launch();
  } catch {
    // the free port was taken in between: one more try on another
    port = await freePort();
    await launch();
  }

  return {
    get port() {
      return port;
    },
    dir,
    get url() {
      return `redis://127.0.0.1:${port}`;
    },
    async kill() {
      child?.kill('SIGKILL');
      await exited;
    },
    pause() {
      child?.kill('SIGSTOP');
    },
    resume() {
      child?.kill('SIGCONT');
    },
    async restart() {
      if (child && child.exitCode === null && child.signalCode === null) {
        child.kill('SIGCONT');
        child.kill('SIGKILL');
        await exited;
      }
      await launch();
    },
    async stop() {
      if (child && child.exitCode === null && child.signalCode === null) {
        child.kill('SIGCONT');
        child.kill('SIGTERM');
        await exited;
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  } as RedisServer;
}
