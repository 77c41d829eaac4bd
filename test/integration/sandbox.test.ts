// The sandbox starts real servers: PostgreSQL primary and replica, PgBouncer, and the PGlite fallback.
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { startPgBouncer } from '../../src/sandbox/pgbouncer.js';
import { startPglite } from '../../src/sandbox/pglite.js';
import { startPrimary, startReplica, type PgServer } from '../../src/sandbox/postgres.js';
import { sandboxAdmin, sandboxConfig } from '../../src/sandbox/sandbox-config.js';
import { waitFor } from '../../src/sandbox/wait.js';
import { configSchema } from '../../src/config/schema.js';
import './helpers/context.js';
import { queryOnce } from './helpers/pg-client.js';

const pgContext = inject('pg');
const onPrimary = {
  host: pgContext.host,
  port: pgContext.port,
  user: 'postgres',
  password: pgContext.password,
  database: 'app',
};
const onReplica = { ...onPrimary, port: pgContext.replicaPort };

describe('global setup servers', () => {
  it('runs a real PostgreSQL primary', async () => {
    const [row] = await queryOnce(onPrimary, 'SELECT version()');
    expect(row.version).toMatch(/^PostgreSQL \d+/);
  });

  it('streams rows inserted on the primary to a replica in recovery', async () => {
    expect(await queryOnce(onReplica, 'SELECT pg_is_in_recovery() AS r')).toEqual([{ r: true }]);
    await queryOnce(
      onPrimary,
      'CREATE TABLE sandbox_stream (id int); INSERT INTO sandbox_stream VALUES (42)',
    );
    const rows = await waitFor(
      async () => {
        const found = await queryOnce(onReplica, 'SELECT id FROM sandbox_stream');
        return found.length > 0 ? found : null;
      },
      { what: 'the row on the replica', timeoutMs: 10_000 },
    );
    expect(rows).toEqual([{ id: 42 }]);
  });

  it('rejects a wrong password', async () => {
    await expect(queryOnce({ ...onPrimary, password: 'wrong' }, 'SELECT 1')).rejects.toThrow(
      /password authentication failed/,
    );
  });
});

describe('server lifecycle', () => {
  const servers: PgServer[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
  });

  it('uses md5 when asked, survives a crash and promotes a replica', async () => {
    const baseDir = await mkdtemp(join(pgContext.baseDir, 'lifecycle-'));
    const primary = await startPrimary({ baseDir, password: 'md5-secret', authMethod: 'md5' });
    servers.push(primary);
    expect(await primary.psql("SELECT left(rolpassword, 3) FROM pg_authid WHERE rolname = 'postgres'")).toBe(
      'md5',
    );

    const replica = await startReplica(primary, { baseDir, applyDelayMs: 200 });
    servers.push(replica);
    expect(await replica.psql('SHOW recovery_min_apply_delay')).toBe('200ms');

    await primary.kill();
    await expect(primary.psql('SELECT 1')).rejects.toThrow();
    await primary.restart();
    expect(await primary.psql('SELECT 1')).toBe('1');

    await replica.promote();
    expect(await replica.psql('SELECT pg_is_in_recovery()')).toBe('f');
    await replica.psql('CREATE TABLE promoted (id int)');
  });
});

describe('PgBouncer', () => {
  it('proxies a query to the primary', async () => {
    const primary = {
      host: '127.0.0.1',
      port: pgContext.port,
      user: 'postgres',
      password: pgContext.password,
    } as PgServer;
    const bouncer = await startPgBouncer({
      baseDir: pgContext.baseDir,
      backend: primary,
      database: 'app',
      poolMode: 'transaction',
      poolSize: 2,
      user: 'bench',
      password: 'bench-secret',
    });
    try {
      const rows = await queryOnce(
        { host: bouncer.host, port: bouncer.port, user: 'bench', password: 'bench-secret', database: 'app' },
        'SELECT current_database() AS db, 1 + 1 AS two',
      );
      expect(rows).toEqual([{ db: 'app', two: 2 }]);
    } finally {
      await bouncer.stop();
    }
  });
});

describe('PGlite fallback', () => {
  it('answers SELECT 1 over TCP', async () => {
    const pglite = await startPglite();
    try {
      const rows = await queryOnce(
        { host: pglite.host, port: pglite.port, user: pglite.user, database: pglite.database },
        'SELECT 1 AS one',
      );
      expect(rows).toEqual([{ one: 1 }]);
    } finally {
      await pglite.stop();
    }
  });
});

describe('sandbox config', () => {
  it('is a valid polyproxy config', () => {
    const config = sandboxConfig({
      listen: '127.0.0.1:6432',
      admin: '127.0.0.1:9930',
      backend: { user: 'postgres', password: 'x', database: 'app' },
      poolSize: 10,
      primary: '127.0.0.1:5000',
      replicas: ['127.0.0.1:5001'],
      description: 'test',
    });
    const parsed = configSchema.safeParse(config);
    expect(parsed.success).toBe(true);
    // A newcomer can open the admin console with the user the sandbox prints.
    expect(parsed.data?.users.find((u) => u.name === sandboxAdmin.name)?.admin).toBe(true);
  });
});
