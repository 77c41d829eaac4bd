// The metrics a plugin creates through ctx.metrics: named polyproxy_plugin_<plugin>_<metric> on the proxy's registry.
import client from 'prom-client';
import type { CounterLike, GaugeLike, HistogramLike, PluginMetrics } from '../plugins/api.js';

/** Prometheus names allow [a-zA-Z0-9_:]; anything else in a plugin or metric name becomes `_`. */
function metricPart(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9_]/g, '_');
}

/**
 * Asking twice for the same name returns the metric created first (a plugin registered again after a reload
 * keeps its series); asking for it as another type is a plugin bug and throws.
 */
function existing<T extends client.Metric>(
  registry: client.Registry,
  name: string,
  type: new (...args: never[]) => T,
): T | undefined {
  const found = registry.getSingleMetric(name);
  if (!found) return undefined;
  if (!(found instanceof type)) throw new Error(`metric ${name} already exists with another type`);
  return found;
}

export function pluginMetrics(registry: client.Registry, pluginName: string): PluginMetrics {
  const prefix = `polyproxy_plugin_${metricPart(pluginName)}_`;
  return {
    counter(name, help, labelNames = []): CounterLike {
      // Counters end in _total, as Prometheus expects; a plugin may or may not have written it.
      const full = prefix + metricPart(name).replace(/(_total)?$/, '_total');
      const c =
        existing(registry, full, client.Counter) ??
        new client.Counter({ name: full, help, labelNames: [...labelNames], registers: [registry] });
      return { inc: (labels, value) => c.inc(labels ?? {}, value ?? 1) };
    },
    gauge(name, help, labelNames = []): GaugeLike {
      const full = prefix + metricPart(name);
      const g =
        existing(registry, full, client.Gauge) ??
        new client.Gauge({ name: full, help, labelNames: [...labelNames], registers: [registry] });
      return { set: (labels, value) => g.set(labels, value) };
    },
    histogram(name, help, labelNames = [], buckets): HistogramLike {
      const full = prefix + metricPart(name);
      const h =
        existing(registry, full, client.Histogram) ??
        new client.Histogram({
          name: full,
          help,
          labelNames: [...labelNames],
          registers: [registry],
          ...(buckets ? { buckets } : {}),
        });
      return { observe: (labels, value) => h.observe(labels, value) };
    },
  };
}
