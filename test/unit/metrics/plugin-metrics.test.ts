// Plugin metrics: named under the plugin, counters end in _total, asking twice returns the same metric.
import client from 'prom-client';
import { describe, expect, it } from 'vitest';
import { pluginMetrics } from '../../../src/metrics/plugin-metrics.js';

describe('pluginMetrics', () => {
  it('names metrics polyproxy_plugin_<plugin>_<name>, with _total on counters', async () => {
    const registry = new client.Registry();
    const m = pluginMetrics(registry, 'cache');
    m.counter('hits', 'cache hits').inc();
    m.counter('misses_total', 'cache misses', ['reason']).inc({ reason: 'cold' }, 2);
    m.gauge('entries', 'entries', ['db']).set({ db: 'app' }, 7);
    m.histogram('fetch_seconds', 'fetch time', ['op'], [0.1, 1]).observe({ op: 'get' }, 0.05);
    const text = await registry.metrics();
    expect(text).toContain('polyproxy_plugin_cache_hits_total 1');
    expect(text).toContain('polyproxy_plugin_cache_misses_total{reason="cold"} 2');
    expect(text).toContain('polyproxy_plugin_cache_entries{db="app"} 7');
    expect(text).toContain('polyproxy_plugin_cache_fetch_seconds_bucket{le="0.1",op="get"} 1');
  });

  it('is idempotent for the same plugin and name', async () => {
    const registry = new client.Registry();
    pluginMetrics(registry, 'graph').counter('queries', 'Cypher queries').inc();
    pluginMetrics(registry, 'graph').counter('queries', 'Cypher queries').inc({}, 2);
    expect(await registry.metrics()).toContain('polyproxy_plugin_graph_queries_total 3');
  });

  it('refuses the same name as another type', () => {
    const registry = new client.Registry();
    const m = pluginMetrics(registry, 'docs');
    m.gauge('size', 'size');
    expect(() => m.histogram('size', 'size')).toThrow(/another type/);
  });

  it('turns characters Prometheus does not allow into underscores', async () => {
    const registry = new client.Registry();
    pluginMetrics(registry, 'my-plugin').gauge('queue.depth', 'depth').set({}, 1);
    expect(await registry.metrics()).toContain('polyproxy_plugin_my_plugin_queue_depth 1');
  });
});
