// Local statistics of the coordinator's mirror: its foreign tables are analyzed on the coordinator (so the
// planner knows the join columns' distinct values and picks hash joins over per-row remote rescans) when the
// shards' own statistics change, and only tables small enough to read whole (PostgreSQL 15's postgres_fdw
// fetches every row to sample one).
import type { ShardChannel } from '../shard-channel.js';
import { runSimple, textOf } from '../shard-exec.js';
import { ident } from './layout-sql.js';

/** Tables with more rows than this (all shards together) keep remote estimates only. */
const analyzeRowLimit = 1_000_000;

export interface ShardStatistics {
  /** Changes whenever the default shard's statistics of any table change. */
  key: string;
  /** Schema-qualified table -> its rows on the default shard (unknown when never analyzed: absent). */
  rows: Map<string, number>;
}

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
  const rows = new Map<string, number>();
  const key: string[] = [];
  for (const row of answer.rows) {
    const [schema, name, tuples, analyzed] = row.map(textOf);
    if (Number(tuples) >= 0) rows.set(`${schema}.${name}`, Number(tuples));
    key.push(`${schema}.${name}@${analyzed ?? ''}`);
  }
  return { key: key.join(','), rows };
}

/**
 * ANALYZE of the mirrored tables small enough to sample whole; `shards` of them for a sharded table (the
 * default shard holds about its share). Tables the mirror lacks (`skipped`) are left out.
 */
export async function analyzeMirror(
  c: ShardChannel,
  stats: ShardStatistics,
  sharded: (name: string) => boolean,
  shards: number,
  skipped: ReadonlyMap<string, string>,
): Promise<void> {
  for (const [qualified, rows] of stats.rows) {
    const dot = qualified.indexOf('.');
    const name = qualified.slice(dot + 1);
    if (skipped.has(name) || (sharded(name) ? rows * shards : rows) > analyzeRowLimit) continue;
    // Statistics only steer plans: a table that cannot be analyzed keeps remote estimates.
    await runSimple(c, `ANALYZE ${ident(qualified.slice(0, dot))}.${ident(name)}`).catch(() => {});
  }
}
