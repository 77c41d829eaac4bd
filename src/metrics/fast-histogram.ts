// A histogram for per-statement observations: a child per label set is found once, and each observation is
// a bucket search and three additions. prom-client's own Histogram hashes its labels on every observe().
import type client from 'prom-client';

/** What the registry reads from a metric at scrape time. */
interface Snapshot {
  name: string;
  help: string;
  type: 'histogram';
  values: { metricName: string; labels: Record<string, string | number>; value: number }[];
  aggregator: 'sum';
}

export class HistogramChild {
  /** Observations per bucket (not cumulative); the last slot is +Inf. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(
    readonly labels: Readonly<Record<string, string>>,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    let i = 0;
    while (i < this.bounds.length && value > this.bounds[i]) i++;
    this.counts[i]++;
    this.sum += value;
    this.count++;
  }
}

/** Registers itself on the registry; /metrics shows it exactly as a prom-client histogram. */
export class FastHistogram {
  readonly type = 'histogram';
  private readonly children: HistogramChild[] = [];

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly buckets: readonly number[],
    registry: client.Registry,
  ) {
    registry.registerMetric(this as unknown as client.Metric);
  }

  /** The child for a label set; create it once and keep it. */
  child(labels: Record<string, string>): HistogramChild {
    const child = new HistogramChild(labels, this.buckets);
    this.children.push(child);
    return child;
  }

  /** prom-client's metric shape: cumulative `_bucket` lines with `le`, then `_sum` and `_count`. */
  get(): Promise<Snapshot> {
    const values: Snapshot['values'] = [];
    for (const c of this.children) {
      let cumulative = 0;
      this.buckets.forEach((bound, i) => {
        cumulative += c.counts[i];
        values.push({
          metricName: `${this.name}_bucket`,
          labels: { le: bound, ...c.labels },
          value: cumulative,
        });
      });
      values.push({ metricName: `${this.name}_bucket`, labels: { le: '+Inf', ...c.labels }, value: c.count });
      values.push({ metricName: `${this.name}_sum`, labels: c.labels, value: c.sum });
      values.push({ metricName: `${this.name}_count`, labels: c.labels, value: c.count });
    }
    return Promise.resolve({
      name: this.name,
      help: this.help,
      type: 'histogram',
      values,
      aggregator: 'sum',
    });
  }

  reset(): void {
    for (const c of this.children) {
      c.counts.fill(0);
      c.sum = 0;
      c.count = 0;
    }
  }
}
