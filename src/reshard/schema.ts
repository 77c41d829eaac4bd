// Phase (a): the schema of the old primary on every new shard (tables first, keys and indexes after the copy),
// by pg_dump --schema-only, and sequences set to the highest value any old shard reached.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pgBinDir } from '../sandbox/pg-bin.js';
import type { ServerLogin } from '../streams/stream-lock.js';
import { withClient, type Runner } from './connect.js';

const run = promisify(execFile);

export type Section = 'pre-data' | 'post-data';

/** The DDL of one pg_dump section, without psql's own commands (\restrict and the like). */
export async function dumpSection(server: ServerLogin, section: Section): Promise<string> {
  const bin = pgBinDir();
  if (!bin) throw new Error('pg_dump not found (PostgreSQL 15 binaries)');
  const { stdout } = await run(
    join(bin, 'pg_dump'),
    [
      '--schema-only',
      `--section=${section}`,
      '--no-owner',
      '--no-privileges',
      '--no-publications',
      '--no-subscriptions',
      '--exclude-table=polyproxy_reshard*',
      // The proxy's own schema on the old primary (the decision log of its transactions) stays there.
      '--exclude-schema=polyproxy',
      `--host=${server.host}`,
      `--port=${server.port}`,
      `--username=${server.user}`,
      server.database,
    ],
    { env: { ...process.env, PGPASSWORD: server.password }, maxBuffer: 64 * 1024 * 1024 },
  );
  return stdout
    .split('\n')
    .filter((line) => !line.startsWith('\\'))
    .join('\n');
}

/** Runs DDL on a server in one transaction: a failed section leaves nothing half made. */
export async function applyDdl(server: ServerLogin, ddl: string): Promise<void> {
  await withClient(server, async (client) => {
    try {
      await client.query('BEGIN');
      await client.query(ddl);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    }
  });
}

/** Sequences on the new shards at the highest value of any old shard, so new ids never repeat old ones. */
export async function copySequences(
  source: readonly ServerLogin[],
  target: readonly ServerLogin[],
  run: Runner = withClient,
): Promise<number> {
  const highest = new Map<string, bigint>();
  const read = await Promise.all(
    source.map((server) =>
      run(server, (client) =>
        client.query<{ name: string; value: string | null }>(
          `SELECT format('%I.%I', schemaname, sequencename) AS name, last_value::text AS value FROM pg_sequences`,
        ),
      ),
    ),
  );
  for (const row of read.flatMap((r) => r.rows)) {
    if (row.value === null) continue;
    const value = BigInt(row.value);
    if (value > (highest.get(row.name) ?? -(2n ** 63n))) highest.set(row.name, value);
  }
  await Promise.all(
    target.map((server) =>
      run(server, async (client) => {
        for (const [name, value] of highest)
          await client.query('SELECT setval($1::regclass, $2::bigint, true)', [name, value.toString()]);
      }),
    ),
  );
  return highest.size;
}
