// A real Prometheus scraping polyproxy's /metrics, for dashboard tests: PromQL goes through its HTTP API.
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';
import { spawnManaged, waitUntilListening } from './process.js';
import { waitFor } from './wait.js';

export interface PrometheusOptions {
  /** host:port addresses serving /metrics. */
  targets: string[];
  /** Prometheus duration, e.g. `1s`: short, so a test has several samples within seconds. */
  scrapeInterval?: string;
  /** A directory for config and data (default: a new temp dir). */
  baseDir?: string;
}

export type PromSample = {
  metric: Record<string, string>;
  value?: [number, string];
  values?: [number, string][];
};

export interface PromQueryResult {
  resultType: string;
  result: PromSample[];
}

export interface Prometheus {
  url: string;
  port: number;
  /** Evaluates an instant query now; rejects with Prometheus' error for an invalid query. */
  query(expr: string): Promise<PromQueryResult>;
  /** How many scrapes of every target have succeeded so far (the smallest count over targets). */
  scrapes(): Promise<number>;
  stop(): Promise<void>;
}

function configYaml(targets: string[], interval: string): string {
  return [
    'global:',
    `  scrape_interval: ${interval}`,
    `  evaluation_interval: ${interval}`,
    'scrape_configs:',
    '  - job_name: polyproxy',
    '    static_configs:',
    `      - targets: [${targets.map((t) => JSON.stringify(t)).join(', ')}]`,
    '',
  ].join('\n');
}

export async function startPrometheus(opts: PrometheusOptions): Promise<Prometheus> {
  const port = await freePort();
  const dir = opts.baseDir ?? (await mkdtemp(join(tmpdir(), 'polyproxy-prometheus-')));
  await mkdir(join(dir, 'data'), { recursive: true });
  const configFile = join(dir, 'prometheus.yml');
  await writeFile(configFile, configYaml(opts.targets, opts.scrapeInterval ?? '1s'));
  const child = spawnManaged('prometheus', [
    `--config.file=${configFile}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--log.level=warn',
  ]);
  await waitUntilListening(child, 'prometheus', port);
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor(async () => (await fetch(`${url}/-/ready`)).ok, { what: 'prometheus to be ready' });
  } catch (err) {
    await child.stop();
    throw err;
  }
  const query = async (expr: string): Promise<PromQueryResult> => {
    const res = await fetch(`${url}/api/v1/query`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ query: expr }),
    });
    const body = (await res.json()) as { status: string; data?: PromQueryResult; error?: string };
    if (body.status !== 'success' || !body.data) throw new Error(`${expr}: ${body.error ?? res.statusText}`);
    return body.data;
  };
  return {
    url,
    port,
    query,
    async scrapes() {
      const { result } = await query(
        'min(count_over_time(up{job="polyproxy"}[1h]) * min_over_time(up{job="polyproxy"}[1h]))',
      );
      return result.length > 0 ? Number(result[0].value?.[1] ?? 0) : 0;
    },
    stop: () => child.stop(),
  };
}
