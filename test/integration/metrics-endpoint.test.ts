// /metrics on a real proxy: every metric the README documents is exported with its type and labels, and back.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestProxy, type TestProxy } from './helpers/proxy.js';
import { connect, withClient } from './helpers/tools.js';

interface Family {
  type: string;
  /** Label names seen on samples (histogram `le` left out). */
  labels: Set<string>;
  samples: { labels: Record<string, string>; value: number }[];
}

function parseExposition(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) families.set(type[1], { type: type[2], labels: new Set(), samples: [] });
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!sample) continue;
    const base = sample[1].replace(/_(bucket|sum|count)$/, '');
    const family = families.get(sample[1]) ?? families.get(base);
    if (!family) continue;
    const labels: Record<string, string> = {};
    for (const m of (sample[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[m[1]] = m[2];
    for (const name of Object.keys(labels)) if (name !== 'le') family.labels.add(name);
    family.samples.push({ labels, value: Number(sample[3]) });
  }
  return families;
}

/** The README's metrics table: name -> type and label names. */
function documented(): Map<string, { type: string; labels: string[] }> {
  const readme = readFileSync('README.md', 'utf8');
  const section = readme.slice(readme.indexOf('## Metrics'), readme.indexOf('## Dashboards'));
  const rows = new Map<string, { type: string; labels: string[] }>();
  for (const m of section.matchAll(/^\| `(polyproxy_[a-z_]+)` \| (\w+) \| ([a-z_, ]*) \|/gm))
    rows.set(m[1], {
      type: m[2],
      labels: m[3]
        .split(',')
        .map((l) => l.trim())
        .filter(Boolean),
    });
  return rows;
}

let proxy: TestProxy;

async function scrape(): Promise<Map<string, Family>> {
  const res = await fetch(`http://127.0.0.1:${proxy.adminPort}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/plain');
  return parseExposition(await res.text());
}

beforeAll(async () => {
  proxy = await startTestProxy({ extraUsers: ['{ name: ops, password: ops-secret, admin: true }'] });
});

afterAll(async () => {
  await proxy?.close();
});

describe('/metrics', () => {
  it('exports every documented metric with its type and labels, and documents every one it exports', async () => {
    const client = await connect(proxy.client());
    try {
      await client.query('SELECT 1');
      const families = await scrape();
      const docs = documented();
      expect(docs.size).toBeGreaterThanOrEqual(19);
      for (const [name, doc] of docs) {
        const family = families.get(name);
        expect(family, name).toBeDefined();
        expect(family!.type, name).toBe(doc.type);
        // Families without samples yet (statements, plugin calls) show their labels once recorded.
        if (family!.samples.length > 0)
          expect([...family!.labels].sort(), name).toEqual([...doc.labels].sort());
      }
      const own = [...families.keys()].filter((n) => !/^polyproxy_(process|nodejs)_/.test(n));
      for (const name of own) expect(docs.has(name), `${name} is not in the README`).toBe(true);
      expect(families.has('polyproxy_process_cpu_seconds_total')).toBe(true);
      expect(families.has('polyproxy_nodejs_eventloop_lag_p99_seconds')).toBe(true);
    } finally {
      await client.end();
    }
  });

  it('counts clients per database and shows pool state, including PAUSE', async () => {
    const client = await connect(proxy.client());
    const admin = await connect({ ...proxy.client('ops', 'polyproxy'), password: 'ops-secret' });
    try {
      await client.query('SELECT 1');
      await admin.query('PAUSE app');
      const families = await scrape();
      const value = (name: string, labels: Record<string, string>) =>
        families
          .get(name)!
          .samples.filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))
          .reduce((sum, s) => sum + s.value, 0);
      expect(value('polyproxy_client_connections', { database: 'app' })).toBe(1);
      expect(value('polyproxy_pool_paused', { database: 'app' })).toBe(1);
      expect(value('polyproxy_pool_paused', { database: 'sess' })).toBe(0);
      expect(value('polyproxy_pool_max_connections', { database: 'app' })).toBe(2);
      expect(value('polyproxy_server_connections', { database: 'app', state: 'idle' })).toBeGreaterThan(0);
      expect(value('polyproxy_route_decisions_total', { database: 'app', role: 'primary' })).toBeGreaterThan(
        0,
      );
      await admin.query('RESUME app');
      await client.query('SELECT 1');
    } finally {
      await admin.end();
      await client.end();
    }
  });

  it('keeps labels low-cardinality: no statement text in any label value', async () => {
    await withClient(proxy.client(), (c) => c.query("SELECT 'needle-in-a-label' AS x"));
    const families = await scrape();
    for (const [name, family] of families)
      for (const s of family.samples)
        for (const v of Object.values(s.labels)) {
          expect(v, name).not.toContain('needle');
          expect(v.length, name).toBeLessThan(100);
        }
  });

  it('answers /healthz, /readyz and a hint for other paths', async () => {
    const base = `http://127.0.0.1:${proxy.adminPort}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect(await (await fetch(`${base}/readyz`)).text()).toBe('ready\n');
    const other = await fetch(`${base}/nope`);
    expect(other.status).toBe(404);
    expect(await other.text()).toContain('/metrics');
  });
});
