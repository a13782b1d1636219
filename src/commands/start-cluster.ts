/**
 * `server.workers` above 1 (SPEC.md 9): node:cluster. The primary opens the store and the admin listener (its
 * /metrics aggregates every worker's), watches the config, and forks the workers; each worker serves the public
 * listener, which node:cluster shares among them. A reload (file change, SIGHUP to the primary) is validated in the
 * primary, then every worker reloads; SIGTERM to the primary drains every worker; a worker that dies is restarted
 * with a back-off. State lives in the store, so every worker sees every revocation and failed-auth count.
 */
import cluster, { type Worker } from 'node:cluster';
import { clusterMetricsSource, serveMetricsToPrimary } from '../metrics/cluster-metrics.js';
import { createLogger } from '../server/logger.js';
import { mallocTunablesEnv } from '../server/malloc-tunables.js';
import { startGateway, type RunningGateway, type StartOptions } from '../server/start-gateway.js';
import { serialReloader, watchConfig } from './config-reload.js';

type Options = StartOptions & { configPath: string };

type ToWorker = { type: 'scopegate:reload'; reason: string } | { type: 'scopegate:drain' };
type FromWorker = { type: 'scopegate:ready'; url: string } | { type: 'scopegate:failed'; message: string };

/** Back-off before restarting a worker: doubles with each restart in the last minute, from 250 ms up to 30 s. */
const RESTART_WINDOW_MS = 60_000;
const restartDelay = (recent: number): number => Math.min(30_000, 250 * 2 ** recent);
/** How long a drain may take before the primary kills what is left (workers cut connections after 25 s). */
const DRAIN_LIMIT_MS = 30_000;

const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));
const isFromWorker = (m: unknown): m is FromWorker =>
  typeof m === 'object' && m !== null && typeof (m as { type?: unknown }).type === 'string';

/** A worker: the public listener only, reloads and drains when the primary says so. */
export async function startWorker(options: Options): Promise<RunningGateway> {
  const logger = createLogger().child({ pid: process.pid });
  const send = (message: FromWorker, then?: () => void) => process.send?.(message, undefined, {}, () => then?.());
  let gateway: RunningGateway;
  try {
    gateway = await startGateway({
      ...options,
      logger,
      listeners: 'public',
      rateShare: Number(process.env.SCOPEGATE_WORKERS ?? '1'),
    });
  } catch (err) {
    send({ type: 'scopegate:failed', message: messageOf(err) }, () => process.exit(1));
    throw err;
  }
  serveMetricsToPrimary(gateway.metrics.registry);
  const reload = serialReloader(Promise.resolve(gateway));
  let stopping = false;
  const stop = (why: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal: why }, 'draining');
    setTimeout(() => process.exit(1), DRAIN_LIMIT_MS).unref();
    gateway.close().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      () => process.exit(1),
    );
  };
  process.on('message', (m: ToWorker) => {
    if (m.type === 'scopegate:reload') reload(m.reason);
    else if (m.type === 'scopegate:drain') stop('primary_drain');
  });
  // The primary coordinates reloads; a SIGHUP sent to the whole process group must not end a worker.
  process.on('SIGHUP', () => undefined);
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  // The primary is gone (killed): nobody restarts or reloads this worker any more, so it stops too.
  process.on('disconnect', () => stop('primary_gone'));
  send({ type: 'scopegate:ready', url: gateway.url });
  return gateway;
}

/** The primary: store, admin listener, config watch; forks `count` workers and keeps them running. */
export async function startPrimary(options: Options, count: number): Promise<RunningGateway> {
  const logger = createLogger().child({ pid: process.pid });
  let ready: (g: RunningGateway) => void = () => undefined;
  const broadcast = (message: ToWorker) => {
    for (const worker of Object.values(cluster.workers ?? {})) if (worker?.isConnected()) worker.send(message);
  };
  const reload = serialReloader(new Promise<RunningGateway>((resolve) => (ready = resolve)), (reason) =>
    broadcast({ type: 'scopegate:reload', reason }),
  );
  const watcher = watchConfig(options.configPath, () => reload('file_changed'), logger);
  // The primary opens the store first (a new SQLite file is created and migrated once, before any worker opens it).
  let gateway: RunningGateway;
  try {
    gateway = await startGateway({ ...options, logger, listeners: 'admin', metricsSource: clusterMetricsSource() });
  } catch (err) {
    watcher.close();
    throw err;
  }

  let stopping = false;
  const restarts: number[] = [];
  cluster.setupPrimary({ silent: false });
  /** Forks one worker; resolves once it listens, rejects with its error when it exits before. */
  const fork = (): Promise<Worker> =>
    new Promise((resolve, reject) => {
      const worker = cluster.fork({ SCOPEGATE_WORKERS: String(count), ...mallocTunablesEnv() });
      let up = false;
      let failure = 'exited before it was listening';
      worker.on('message', (m: unknown) => {
        if (!isFromWorker(m)) return;
        if (m.type === 'scopegate:failed') failure = m.message;
        if (m.type === 'scopegate:ready') {
          up = true;
          // forked during a drain (a restart): it missed the drain message, so it gets one now
          if (stopping) worker.send({ type: 'scopegate:drain' } satisfies ToWorker);
          resolve(worker);
        }
      });
      worker.once('exit', (code, signal) => {
        if (!up) reject(new Error(`a worker failed to start: ${failure}`));
        else if (!stopping) restart(worker, code, signal);
      });
    });
  const restart = (dead: Worker, code: number | null, signal: string | null) => {
    const now = Date.now();
    while (restarts.length > 0 && restarts[0]! < now - RESTART_WINDOW_MS) restarts.shift();
    const delay = restartDelay(restarts.length);
    restarts.push(now);
    logger.error({ worker_pid: dead.process.pid, code, signal, restart_in_ms: delay }, 'worker exited; restarting');
    setTimeout(() => {
      if (stopping) return;
      fork().then(
        (worker) => logger.info({ worker_pid: worker.process.pid }, 'worker restarted'),
        (err: unknown) => {
          logger.error({ err: messageOf(err) }, 'worker restart failed');
          if (!stopping) restart(dead, null, null);
        },
      );
    }, delay);
  };

  try {
    await Promise.all(Array.from({ length: count }, fork));
  } catch (err) {
    stopping = true;
    for (const worker of Object.values(cluster.workers ?? {})) worker?.kill();
    watcher.close();
    await gateway.close().catch(() => undefined);
    throw err;
  }
  ready(gateway);
  const workerPids = Object.values(cluster.workers ?? {}).map((w) => w?.process.pid);
  logger.info({ workers: count, worker_pids: workerPids, admin_url: gateway.adminUrl }, 'workers listening');
  if (watcher.failed) logger.warn('cannot watch the config file; reload with SIGHUP');
  process.on('SIGHUP', () => reload('sighup'));

  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'draining');
    watcher.close();
    const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
    const force = setTimeout(() => {
      for (const w of workers) w.process.kill('SIGKILL');
      process.exit(1);
    }, DRAIN_LIMIT_MS + 5_000);
    force.unref();
    const exits = workers.map(
      (w) =>
        new Promise<boolean>((done) => {
          if (w.isDead()) return done(w.process.exitCode === 0);
          w.once('exit', (code) => done(code === 0));
        }),
    );
    broadcast({ type: 'scopegate:drain' });
    void Promise.all(exits)
      .then(async (clean) => {
        await gateway.close();
        const ok = clean.every(Boolean);
        logger.info({ workers_clean: ok }, 'stopped');
        process.exit(ok ? 0 : 1);
      })
      .catch(() => process.exit(1));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  return gateway;
}
