// Every Prometheus metric the proxy exports, defined in one place: a registry per proxy, filled from live objects.
import client from 'prom-client';
import type { PluginMetrics } from '../plugins/api.js';
import { registerClientMetrics } from './client-metrics.js';
import { registerHostMetrics } from './host-metrics.js';
import type { MetricsSource } from './metrics-source.js';
import { pluginMetrics } from './plugin-metrics.js';
import { registerPoolMetrics } from './pool-metrics.js';
import { registerStatementCacheMetrics } from './statement-cache-metrics.js';
import { registerReshardMetrics } from './reshard-metrics.js';
import { registerStreamMetrics } from './stream-metrics.js';
import { createStatementMetrics, type StatementMetrics } from './statement-metrics.js';

export type { HostMetrics, MetricsSource, PoolMetrics, PoolStats } from './metrics-source.js';
export type { StatementMetrics } from './statement-metrics.js';

export interface ProxyMetrics {
  /** What /metrics serves. */
  registry: client.Registry;
  /** Statement and plugin-call events, recorded as they happen. */
  statements: StatementMetrics;
  /** ctx.metrics for one plugin. */
  plugin(name: string): PluginMetrics;
}

/** A registry per proxy instance, so tests can run several proxies in one process. */
export function createMetrics(source: MetricsSource): ProxyMetrics {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry, prefix: 'polyproxy_' });
  registerClientMetrics(registry, source);
  registerPoolMetrics(registry, source);
  registerHostMetrics(registry, source);
  registerStatementCacheMetrics(registry);
  registerStreamMetrics(registry);
  registerReshardMetrics(registry);
  return {
    registry,
    statements: createStatementMetrics(registry),
    plugin: (name) => pluginMetrics(registry, name),
  };
}
