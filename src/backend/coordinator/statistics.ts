// Local statistics of the coordinator's mirror: its foreign tables are analyzed on the coordinator (so the
// planner knows the join columns' distinct values and picks hash joins over per-row remote rescans) when the
// shards' own statistics of that table change, and only tables small enough to read whole (PostgreSQL 15's
// postgres_fdw fetches every row to sample one).
import type { ShardChannel } from '../shard-channel.js';
import { runSimple, textOf } from '../shard-exec.js';
import { ident } from './layout-sql.js';

/** Tables with more rows than this (all shards together) keep remote estimates only. */
const analyzeRowLimit = 1_000_000;

export interface TableStatistics {
  /** Rows on the default shard (absent when never analyzed there). */
  rows?: number;
  /** When the default shard last analyzed the table: a new stamp means its statistics changed. */
  stamp: string;
}

/** Schema-qualified table -> its statistics on the default shard. */
export type ShardStatistics = Map<string, TableStatistics>;

const statsQuery = `
SELECT n.nspname, c.relname, c.reltuples::float8,
  GREATEST(s.last_analyze, s.last_autoanalyze)::text
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_stat_user_tables s ON s.relid = c.oid
WHERE c.relkind = 'r' AND NOT c.relispartition
  AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'polyproxy') AND n.nspname NOT LIKE 'pg\\_%'
ORDER BY 1, 2`;

export async function readStatistics(channel: ShardChannel): Promise<ShardStatistics> {
  const answer = await runSimple(channel, statsQuery);
  const stats: ShardStatistics = new Map();
  for (const row of answer.rows) {
    const [schema, name, tuples, analyzed] = row.map(textOf);
    const rows = Number(tuples) >= 0 ? Number(tuples) : undefined;
    stats.set(`${schema}.${name}`, { rows, stamp: analyzed ?? '' });
  }
  return stats;
}

/** Whether the mirror of a table this size has local statistics (else it keeps remote estimates only). */
export function analyzable(rows: number | undefined, sharded: boolean, shards: number): boolean {
  return rows !== undefined && (sharded ? rows * shards : rows) <= analyzeRowLimit;
}

/**
 * ANALYZE of the mirrored tables whose statistics on the default shard changed since `done` (table -> the
 * stamp it was analyzed at, updated here), those small enough to sample whole: `shards` times the default
 * shard's rows for a sharded table (it holds about its share). Tables the mirror lacks (`skipped`) are left out.
 */
export async function analyzeMirror(
  c: ShardChannel,
  stats: ShardStatistics,
  sharded: (name: string) => boolean,
  shards: number,
  skipped: ReadonlyMap<string, string>,
  done: Map<string, string>,
): Promise<void> {
  for (const [qualified, { rows, stamp }] of stats) {
    if (done.get(qualified) === stamp) continue;
    const dot = qualified.indexOf('.');
    const name = qualified.slice(dot + 1);
    if (!skipped.has(name) && analyzable(rows, sharded(name), shards)) {
      // Statistics only steer plans: a table whose ANALYZE failed (a shard slow or gone) keeps remote
      // estimates until a later refresh tries again.
      const ok = await runSimple(c, `ANALYZE ${ident(qualified.slice(0, dot))}.${ident(name)}`).then(
        () => true,
        () => false,
      );
      if (!ok) continue;
    }
    done.set(qualified, stamp);
  }
}
