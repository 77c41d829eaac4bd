// The per-statement histogram prints exactly what Prometheus expects of a histogram: cumulative buckets, sum, count.
import client from 'prom-client';
import { describe, expect, it } from 'vitest';
import { FastHistogram } from '../../../src/metrics/fast-histogram.js';

describe('FastHistogram', () => {
  it('writes cumulative le buckets, +Inf, _sum and _count per child', async () => {
    const registry = new client.Registry();
    const h = new FastHistogram('t_seconds', 'test', [0.1, 1], registry);
    const a = h.child({ route: 'primary' });
    const b = h.child({ route: 'replica' });
    for (const v of [0.05, 0.1, 0.5, 3]) a.observe(v);
    b.observe(2);
    const text = await registry.metrics();
    expect(text).toContain('# TYPE t_seconds histogram');
    expect(text).toContain('t_seconds_bucket{le="0.1",route="primary"} 2');
    expect(text).toContain('t_seconds_bucket{le="1",route="primary"} 3');
    expect(text).toContain('t_seconds_bucket{le="+Inf",route="primary"} 4');
    expect(text).toContain('t_seconds_sum{route="primary"} 3.65');
    expect(text).toContain('t_seconds_count{route="primary"} 4');
    expect(text).toContain('t_seconds_bucket{le="1",route="replica"} 0');
    expect(text).toContain('t_seconds_count{route="replica"} 1');
    registry.resetMetrics();
    expect(await registry.metrics()).toContain('t_seconds_count{route="primary"} 0');
  });
});
