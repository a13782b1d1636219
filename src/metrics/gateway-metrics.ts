/**
 * Prometheus metrics of one gateway (SPEC.md 7), on a Registry of its own so several gateways can run in one process
 * (tests, embedding). Served on the admin listener only.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { MetricsSource } from './metrics-source.js';
import type { RequestLog } from './request-log.js';
import { addCacheStats, emptyCacheStats, type CacheName, type CacheStats } from './cache-stats.js';

const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export class GatewayMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'route' | 'decision' | 'reason'>;
  private readonly duration: Histogram<'route' | 'decision'>;
  private readonly upstreamErrors: Counter<'route' | 'reason'>;
  private readonly fileReloads: Counter<'what' | 'reason' | 'result'>;
  /** counters of runtimes a reload replaced, so the cache totals only grow */
  private readonly retired: CacheStats = emptyCacheStats();

  constructor(runtime: () => MetricsSource, options: { defaultMetrics?: boolean; storeUp?: () => number } = {}) {
    const registers = [this.registry];
    const storeUp = options.storeUp ?? (() => 1);
    new Gauge({
      name: 'scopegate_store_up',
      help: '1 while the state store is reachable (and, for Redis, its change feed live), else 0',
      registers,
      collect() {
        this.set(storeUp());
      },
    });
    this.requests = new Counter({
      name: 'scopegate_requests_total',
      help: 'Requests by route, decision (allow, deny, would_deny) and reason',
      labelNames: ['route', 'decision', 'reason'],
      registers,
    });
    this.duration = new Histogram({
      name: 'scopegate_request_duration_seconds',
      help: 'Time from request to the end of the response, gateway and upstream',
      labelNames: ['route', 'decision'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.upstreamErrors = new Counter({
      name: 'scopegate_upstream_errors_total',
      help: 'Forwarded requests the upstream did not answer (unreachable, timeout, body too large)',
      labelNames: ['route', 'reason'],
      registers,
    });
    this.fileReloads = new Counter({
      name: 'scopegate_file_reloads_total',
      help: 'Re-reads of the issuer key folder and the TLS files by what (issuer_keys, tls), reason and result',
      labelNames: ['what', 'reason', 'result'],
      registers,
    });
    new Gauge({
      name: 'scopegate_client_secret_expiry_seconds',
      help: 'Seconds until the earliest live secret or API key of a client created through the admin API expires (0: none is live)',
      labelNames: ['client'],
      registers,
      aggregator: 'first', // every worker (server.workers) computes the same value
      collect() {
        this.reset();
        const now = Date.now();
        for (const client of runtime().compiled.clients.values()) {
          if (!client.secrets) continue;
          const ends = [
            ...client.secrets.map((s) => s.expiresAt),
            ...client.api_keys.map((k) => k.expiresAt ?? Infinity),
          ].filter((at) => at > now);
          this.set({ client: client.id }, ends.length === 0 ? 0 : Math.round((Math.min(...ends) - now) / 1000));
        }
      },
    });
    const caches = () => addCacheStats(runtime(), structuredClone(this.retired));
    new Gauge({
      name: 'scopegate_cache_lookups',
      help: 'Cache look-ups since start by cache and result (hit, miss)',
      labelNames: ['cache', 'result'],
      registers,
      collect() {
        for (const [cache, s] of Object.entries(caches()) as [CacheName, { hits: number; misses: number }][]) {
          this.set({ cache, result: 'hit' }, s.hits);
          this.set({ cache, result: 'miss' }, s.misses);
        }
      },
    });
    new Gauge({
      name: 'scopegate_cache_hit_ratio',
      help: 'Hits / look-ups since start by cache (0 before the first look-up)',
      labelNames: ['cache'],
      registers,
      aggregator: 'average',
      collect() {
        for (const [cache, s] of Object.entries(caches()) as [CacheName, { hits: number; misses: number }][]) {
          const total = s.hits + s.misses;
          this.set({ cache }, total === 0 ? 0 : s.hits / total);
        }
      },
    });
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  /** Counts one finished request (called from the request log hook). */
  observe(log: RequestLog): void {
    const route = log.route ?? 'none';
    this.requests.labels(route, log.decision, log.reason ?? 'none').inc();
    if (log.latency_ms !== undefined) this.duration.labels(route, log.decision).observe(log.latency_ms / 1000);
    if (log.upstream_error !== undefined) this.upstreamErrors.labels(route, log.upstream_error).inc();
  }

  /** Counts one re-read of the issuer's key folder or the TLS files. */
  fileReloaded(what: 'issuer_keys' | 'tls', reason: string, ok: boolean): void {
    this.fileReloads.labels(what, reason, ok ? 'ok' : 'failed').inc();
  }

  /** A reload replaces `previous`: keep its cache counters in the totals. */
  retire(previous: MetricsSource): void {
    addCacheStats(previous, this.retired);
  }

  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
