// Which relations are views or materialized views, and what they read: the router refuses reads of views
// over sharded tables, whose every shard's copy sees only that shard's rows.
import type { ViewFacts } from '../router/sharding/relation-kinds.js';
import type { ShardChannel } from './shard-channel.js';
import { runSimple, sqlLiteral, textOf } from './shard-exec.js';

/**
 * Relations named like each of `names`, in any schema (the shard map ignores schemas too), that are views:
 * each with every relation its rewrite rule depends on, through views below it, as pg_depend records them.
 * Only tables, partitioned and foreign tables and materialized views are kept: they hold the rows.
 */
const factsQuery = (names: string[]) => `
WITH RECURSIVE reads(name, start, oid) AS (
  SELECT c.relname::text, c.oid, c.oid FROM pg_catalog.pg_class c
   WHERE c.relname = ANY (ARRAY[${names.map(sqlLiteral).join(', ')}]::text[]) AND c.relkind IN ('v', 'm')
  UNION
  SELECT r.name, r.start, d.refobjid FROM reads r
    JOIN pg_catalog.pg_class v ON v.oid = r.oid AND v.relkind IN ('v', 'm')
    JOIN pg_catalog.pg_rewrite w ON w.ev_class = r.oid
    JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass
     AND d.objid = w.oid AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.refobjid <> r.oid
)
SELECT r.name, s.relkind, c.relname, c.relkind, r.oid = r.start
  FROM reads r JOIN pg_catalog.pg_class s ON s.oid = r.start JOIN pg_catalog.pg_class c ON c.oid = r.oid`;

const rowHolding = new Set(['r', 'p', 'f', 'm']);

/** View facts of each name: null when no relation of that name is a view. */
export async function loadViewFacts(
  channel: ShardChannel,
  names: string[],
): Promise<Map<string, ViewFacts | null>> {
  const facts = new Map<string, ViewFacts | null>(names.map((n) => [n, null]));
  const answer = await runSimple(channel, factsQuery(names));
  for (const row of answer.rows) {
    const [name, startKind, relname, relkind, self] = row.map(textOf);
    const known = facts.get(name!) ?? { materialized: false, reads: [] };
    if (startKind === 'm') known.materialized = true;
    if (self !== 't' && rowHolding.has(relkind!) && !known.reads.includes(relname!))
      known.reads.push(relname!);
    facts.set(name!, known);
  }
  return facts;
}
