/**
 * Metrics across the workers of `server.workers` (node:cluster): prom-client's AggregatorRegistry. The primary asks
 * every worker for its registry over the cluster's IPC channel and sums them (gauges marked otherwise use their own
 * aggregator); a worker answers with its gateway's registry.
 */
import { AggregatorRegistry, type Registry } from 'prom-client';

/** In the primary: the text of every worker's metrics, aggregated. */
export function clusterMetricsSource(): () => Promise<string> {
  const aggregator = new AggregatorRegistry();
  return () => aggregator.clusterMetrics();
}

/** In a worker: answer the primary's requests with `registry`. */
export function serveMetricsToPrimary(registry: Registry): void {
  new AggregatorRegistry(); // installs the worker's message listener
  AggregatorRegistry.setRegistries([registry]);
}
