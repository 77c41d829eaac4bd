// docker-compose.yml: valid against the Compose Specification schema, and consistent with the files and
// config it points at (config/full-stack.yaml, prometheus/, grafana/, the Dockerfile). No Docker engine here.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { promisify } from 'node:util';
import Ajv from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseHostPort } from '../../../src/config/host-port.js';
import { loadConfigFile } from '../../../src/config/load.js';

interface Service {
  image?: string;
  build?: { context: string; dockerfile?: string };
  ports?: string[];
  volumes?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, unknown> | string[];
  configs?: { source: string; target: string }[];
}
interface ComposeFile {
  services: Record<string, Service>;
  configs?: Record<string, { content?: string; file?: string }>;
  volumes?: Record<string, unknown>;
}

// merge: the PostgreSQL services share settings through a YAML merge key, as Compose resolves it.
const compose = parse(readFileSync('docker-compose.yml', 'utf8'), { merge: true }) as ComposeFile;
const services = compose.services;
/** The stack's own config, with compose's defaults for the variables it passes in. */
const fullStack = loadConfigFile('config/full-stack.yaml', {});

/** Compose's `${VAR:-default}` with no variables set, as a user running `docker compose up` gets. */
function interpolate(text: string): string {
  return text.replace(/\$\{[A-Z0-9_]+:-([^}]*)\}/g, '$1');
}

function bindMounts(service: Service): { source: string; target: string }[] {
  return (service.volumes ?? [])
    .filter((v) => v.startsWith('./'))
    .map((v) => {
      const [source, target] = v.split(':');
      return { source, target };
    });
}

/** Container port -> published host port, from `host:container` strings. */
function published(service: Service): Map<number, number> {
  return new Map(
    (service.ports ?? []).map((p) => {
      const [host, container] = interpolate(p).split(':').map(Number);
      return [container, host];
    }),
  );
}

describe('docker-compose.yml', () => {
  it('validates against the Compose Specification JSON schema', () => {
    const schema = JSON.parse(readFileSync('test/fixtures/compose-spec/compose-spec.json', 'utf8')) as object;
    // The schema names draft-07 by a URL ajv does not bundle, and uses formats it does not know (duration).
    const ajv = new Ajv({ allErrors: true, validateSchema: false, unknownFormats: 'ignore' });
    const validate = ajv.compile(schema);
    const valid = validate(compose);
    expect(ajv.errorsText(validate.errors, { separator: '\n' })).toBe('No errors');
    expect(valid).toBe(true);
  });

  it('has the full stack: PostgreSQL primary, replica and second shard, Redis, MongoDB, Neo4j 5.26, Prometheus, Grafana, polyproxy', () => {
    expect(Object.keys(services).sort()).toEqual(
      [
        'grafana',
        'mongodb',
        'neo4j',
        'pg-primary',
        'pg-replica',
        'pg-shard1',
        'polyproxy',
        'prometheus',
        'redis',
      ].sort(),
    );
    expect(services['pg-primary'].image).toMatch(/^postgres:/);
    expect(services['pg-replica'].image).toMatch(/^postgres:/);
    expect(services['pg-shard1'].image).toMatch(/^postgres:/);
    expect(services.mongodb.image).toMatch(/^mongo:/);
    expect(services.neo4j.image).toMatch(/^neo4j:5\.26/);
    expect(services.redis.image).toMatch(/^redis:/);
    expect(services.prometheus.image).toMatch(/^prom\/prometheus:/);
    expect(services.grafana.image).toMatch(/^grafana\/grafana:/);
    expect(services.polyproxy.build?.context).toBe('.');
  });

  it('streams WAL to the replica: the primary creates the replication role, the replica base-backs up from it', () => {
    const setup = compose.configs?.['pg-replication-setup']?.content ?? '';
    const start = compose.configs?.['pg-replica-start']?.content ?? '';
    expect(setup).toContain('WITH REPLICATION LOGIN');
    expect(setup).toContain('host replication replicator');
    expect(start).toContain('pg_basebackup');
    expect(start).toContain('--host=pg-primary');
    expect(start).toContain('-R');
    expect(services['pg-primary'].configs?.[0].target).toMatch(/^\/docker-entrypoint-initdb\.d\//);
  });

  it('builds polyproxy from a multi-stage node:20 Dockerfile', () => {
    const dockerfile = readFileSync(services.polyproxy.build?.dockerfile ?? 'Dockerfile', 'utf8');
    const stages = dockerfile.split('\n').filter((l) => l.startsWith('FROM '));
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of stages) expect(stage).toMatch(/^FROM node:20/);
    expect(dockerfile).toContain('/etc/polyproxy/polyproxy.yaml');
    expect(dockerfile).toContain(`127.0.0.1:${parseHostPort(fullStack.admin!).port}/healthz`);
    expect(existsSync('.dockerignore')).toBe(true);
  });

  it('mounts only files and directories that exist', () => {
    for (const [name, service] of Object.entries(services))
      for (const { source } of bindMounts(service))
        expect(existsSync(source), `${name}: ${source}`).toBe(true);
  });

  it('gives polyproxy config/full-stack.yaml and publishes its listen and admin ports', () => {
    const mount = bindMounts(services.polyproxy).find((m) => m.source === './config/full-stack.yaml');
    expect(mount?.target).toBe('/etc/polyproxy/polyproxy.yaml');
    const ports = published(services.polyproxy);
    const listen = parseHostPort(fullStack.listen);
    const admin = parseHostPort(fullStack.admin!);
    expect(listen.host).toBe('0.0.0.0');
    expect(admin.host).toBe('0.0.0.0');
    expect(ports.get(listen.port)).toBe(6432);
    expect(ports.get(admin.port)).toBe(9930);
  });

  it('names compose services as the backend hosts of config/full-stack.yaml, and polyproxy waits for them', () => {
    const app = fullStack.databases.app;
    const hosts = app.shards.flatMap((s) => [s.primary, ...s.replicas]).map(parseHostPort);
    expect(hosts.map((h) => h.host)).toEqual(['pg-primary', 'pg-replica', 'pg-shard1']);
    for (const h of hosts) {
      expect(services[h.host].image).toMatch(/^postgres:/);
      expect(h.port).toBe(5432);
    }
    const dependsOn = Object.keys(services.polyproxy.depends_on ?? {});
    for (const h of hosts) expect(dependsOn).toContain(h.host);
    // The backend password is the one the PostgreSQL containers are created with.
    const pgPassword = interpolate(services['pg-primary'].environment?.POSTGRES_PASSWORD ?? '');
    expect(app.backend.password).toBe(pgPassword);
    expect(interpolate(services.polyproxy.environment?.POSTGRES_PASSWORD ?? '')).toBe(pgPassword);
  });

  it('points the plugin sections at the Redis, MongoDB and Neo4j services', () => {
    const plugins = fullStack.plugins as Record<string, Record<string, unknown>>;
    const url = (plugin: string) => new URL(String(plugins[plugin].url));
    // The cache's `redis` is a URL, or `{ url, ... }` for Sentinel and TLS options.
    const redis = plugins.cache.redis as string | { url: string };
    const cacheUrl = new URL(typeof redis === 'string' ? redis : redis.url);
    expect([cacheUrl.protocol, cacheUrl.hostname, cacheUrl.port || '6379']).toEqual([
      'redis:',
      'redis',
      '6379',
    ]);
    expect([url('documents').hostname, url('documents').port || '27017']).toEqual(['mongodb', '27017']);
    expect(plugins.documents).toMatchObject({ database: 'app', schema: 'docs' });
    expect([url('graph').protocol, url('graph').hostname, url('graph').port]).toEqual([
      'bolt:',
      'neo4j',
      '7687',
    ]);
    expect(plugins.graph).toMatchObject({ graphs: { social: 'neo4j' } });
    const neo4jAuth = interpolate(services.neo4j.environment?.NEO4J_AUTH ?? '');
    expect(neo4jAuth).toBe(`${String(plugins.graph.user)}/${String(plugins.graph.password)}`);
    for (const host of ['redis', 'mongodb', 'neo4j'])
      expect(Object.keys(services.polyproxy.depends_on ?? {})).toContain(host);
  });

  it("has Prometheus scrape polyproxy's admin address", () => {
    const mount = bindMounts(services.prometheus).find((m) => m.source === './prometheus/prometheus.yml');
    expect(mount?.target).toBe('/etc/prometheus/prometheus.yml');
    const prom = parse(readFileSync('prometheus/prometheus.yml', 'utf8')) as {
      scrape_configs: { static_configs: { targets: string[] }[] }[];
    };
    const targets = prom.scrape_configs.flatMap((s) => s.static_configs.flatMap((c) => c.targets));
    expect(targets).toEqual([`polyproxy:${parseHostPort(fullStack.admin!).port}`]);
  });

  it('passes promtool check config', async () => {
    const { stdout } = await promisify(execFile)('promtool', [
      'check',
      'config',
      'prometheus/prometheus.yml',
    ]);
    expect(stdout).toContain('SUCCESS');
  });

  it('provisions Grafana with the Prometheus service and the dashboards directory', () => {
    const mounts = new Map(bindMounts(services.grafana).map((m) => [m.source, m.target]));
    expect(mounts.get('./grafana/provisioning')).toBe('/etc/grafana/provisioning');
    const datasources = parse(readFileSync('grafana/provisioning/datasources/prometheus.yml', 'utf8')) as {
      datasources: { url: string; uid: string }[];
    };
    const promUrl = new URL(datasources.datasources[0].url);
    expect(promUrl.hostname).toBe('prometheus');
    expect(published(services.prometheus).get(Number(promUrl.port))).toBeDefined();
    const providers = parse(readFileSync('grafana/provisioning/dashboards/polyproxy.yml', 'utf8')) as {
      providers: { options: { path: string } }[];
    };
    const dashboardPath = providers.providers[0].options.path;
    const source = [...mounts].find(([, target]) => target === dashboardPath)?.[0];
    expect(source).toBe('./grafana/dashboards');
    expect(statSync(source!).isDirectory()).toBe(true);
    expect(readdirSync(source!).filter((f) => f.endsWith('.json')).length).toBe(5);
  });
});
