// Phase (b): a publication and a logical slot per old primary, the slot made with an exported snapshot, and
// the initial copy read in that snapshot, each row sent to its new shard by the new map (COPY out, COPY in).
import pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import type { Writable } from 'node:stream';
import type { ShardMap } from '../router/sharding/shard-map.js';
import { clientConfig, type ServerLogin } from '../streams/stream-lock.js';
import { withClient } from './connect.js';
import { LineSplitter, fieldOf } from './copy-rows.js';
import { quoteIdent, sourceShardsOf, type ReshardPlan, type TableFacts } from './plan.js';
import { targetsOf } from './tables.js';

/** A slot just made: its snapshot stays importable while `holder` is open and idle. */
export interface SnapshotSlot {
  readonly slot: string;
  readonly snapshot: string;
  /** Where the stream of the slot starts: every change committed before it is in the snapshot. */
  readonly consistentPoint: string;
  readonly holder: pg.Client;
}

export const markTable = 'polyproxy_reshard_mark';

/** The catch-up marker's table and the publication (named as the slot) of the moved tables and the marker. */
export async function createPublication(
  server: ServerLogin,
  name: string,
  tables: readonly TableFacts[],
): Promise<void> {
  await withClient(server, async (client) => {
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${markTable} (database text PRIMARY KEY, n bigint NOT NULL DEFAULT 0)`,
    );
    const list = [...tables.map((t) => t.sql), markTable].join(', ');
    await client.query(`CREATE PUBLICATION ${quoteIdent(name)} FOR TABLE ${list}`);
  });
}

/** The publication, then the slot with its exported snapshot. */
export async function createSnapshotSlot(
  server: ServerLogin,
  slot: string,
  tables: readonly TableFacts[],
): Promise<SnapshotSlot> {
  await createPublication(server, slot, tables);
  const holder = new pg.Client({ ...clientConfig(server), replication: 'database' } as pg.ClientConfig);
  await holder.connect();
  try {
    const { rows } = await holder.query<{ consistent_point: string; snapshot_name: string }>(
      `CREATE_REPLICATION_SLOT ${quoteIdent(slot)} LOGICAL pgoutput (SNAPSHOT 'export')`,
    );
    return { slot, snapshot: rows[0]!.snapshot_name, consistentPoint: rows[0]!.consistent_point, holder };
  } catch (error) {
    await holder.end().catch(() => {});
    throw error;
  }
}

/** Drops an old primary's slot and publication when they exist (cancel, or a copy started again). */
export async function dropSlot(server: ServerLogin, slot: string): Promise<void> {
  await withClient(server, async (client) => {
    // A stream just stopped may hold the slot for a moment longer: its server process is still exiting.
    const active = 'SELECT 1 FROM pg_replication_slots WHERE slot_name = $1 AND active';
    for (let i = 0; i < 100 && ((await client.query(active, [slot])).rowCount ?? 0) > 0; i++)
      await new Promise((resolve) => setTimeout(resolve, 100));
    await client.query(
      'SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1',
      [slot],
    );
    await client.query(`DROP PUBLICATION IF EXISTS ${quoteIdent(slot)}`);
  });
}

/** Rows copied per table, summed over the old shards. */
export type CopyCounts = Record<string, number>;

/**
 * Copies every table from every old shard that holds it, reading each old shard in its slot's snapshot.
 * The new shards' tables must be empty (the caller truncates them when the copy starts again).
 */
export async function copyAll(
  plan: ReshardPlan,
  map: ShardMap,
  tables: readonly TableFacts[],
  slots: readonly SnapshotSlot[],
  progress: (table: string, rows: number) => void,
): Promise<CopyCounts> {
  const counts: CopyCounts = {};
  const targets = await Promise.all(plan.target.map((server) => connect(server)));
  try {
    for (const table of tables) {
      for (const shard of sourceShardsOf(plan, table)) {
        const copied = await copyTable(plan.source[shard]!, slots[shard]!.snapshot, table, map, targets);
        counts[table.name] = (counts[table.name] ?? 0) + copied;
        progress(table.name, counts[table.name]!);
      }
    }
  } finally {
    await Promise.all(targets.map((client) => client.end().catch(() => {})));
  }
  return counts;
}

async function connect(server: ServerLogin): Promise<pg.Client> {
  const client = new pg.Client(clientConfig(server));
  await client.connect();
  return client;
}

async function copyTable(
  source: ServerLogin,
  snapshot: string,
  table: TableFacts,
  map: ShardMap,
  targets: readonly pg.Client[],
): Promise<number> {
  const columns = table.columns.map(quoteIdent).join(', ');
  return withClient(source, async (client) => {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    await client.query(`SET TRANSACTION SNAPSHOT '${snapshot.replace(/'/g, "''")}'`);
    const ins = targets.map((target) => target.query(copyFrom(`COPY ${table.sql} (${columns}) FROM STDIN`)));
    const done = ins.map((stream) => finished(stream));
    const out = client.query(copyTo(`COPY ${table.sql} (${columns}) TO STDOUT`));
    const splitter = new LineSplitter();
    let rows = 0;
    try {
      for await (const chunk of out as AsyncIterable<Buffer>) {
        // One write per new shard and chunk: the rows of a chunk are gathered first.
        const parts: Buffer[][] = ins.map(() => []);
        for (const line of splitter.push(chunk)) {
          rows++;
          const key = table.role === 'sharded' ? fieldOf(line, table.keyIndex) : null;
          for (const shard of targetsOf(map, table, key)) parts[shard]!.push(line);
        }
        await Promise.all(
          parts.map((lines, shard) => lines.length > 0 && write(ins[shard]!, Buffer.concat(lines))),
        );
      }
      if (splitter.pending) throw new Error(`COPY of ${table.name} ended inside a row`);
    } catch (error) {
      for (const stream of ins) stream.destroy(error as Error);
      await Promise.allSettled(done);
      throw error;
    }
    for (const stream of ins) stream.end();
    await Promise.all(done);
    await client.query('COMMIT');
    return rows;
  });
}

function write(stream: Writable, line: Buffer): Promise<void> | void {
  if (stream.write(line)) return;
  return new Promise((resolve) => stream.once('drain', resolve));
}

function finished(stream: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.on('finish', resolve);
    stream.on('error', reject);
  });
}
