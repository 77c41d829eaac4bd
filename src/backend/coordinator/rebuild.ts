// Rebuilds the coordinator's mirror of the shards in one transaction: other coordinator statements wait for
// it and then see the whole new mirror. A relation that cannot be mirrored is left out, with the reason.
import type { Cluster } from '../cluster.js';
import type { ShardChannel } from '../shard-channel.js';
import { runSimple } from '../shard-exec.js';
import { loadViewFacts } from '../view-facts.js';
import type { CatalogSnapshot } from './catalog.js';
import { dropStatements, layoutOf, serverStatements, type ShardServer } from './layout.js';
import { copyableReferences, refreshStatements, type ReferenceCopy } from './reference-copies.js';
import { parseHostPort } from '../../config/host-port.js';

export interface Mirror {
  /** Relation name -> why the coordinator has no copy of it. */
  skipped: Map<string, string>;
  /** Reference tables held as local copies on the coordinator. */
  copies: ReferenceCopy[];
}

/** Runs `sql` in a savepoint: its error message when it failed (then undone), else null. */
async function attempt(c: ShardChannel, sql: string[]): Promise<string | null> {
  await runSimple(c, 'SAVEPOINT mirror');
  try {
    for (const s of sql) await runSimple(c, s);
    await runSimple(c, 'RELEASE SAVEPOINT mirror');
    return null;
  } catch (err) {
    await runSimple(c, 'ROLLBACK TO SAVEPOINT mirror');
    return (err as Error).message;
  }
}

/** Materialized views that read sharded tables: each shard's copy holds only its own rows. */
async function shardedReaders(cluster: Cluster, catalog: CatalogSnapshot): Promise<Set<string>> {
  const names = catalog.relations.filter((r) => r.kind === 'm').map((r) => r.name);
  if (names.length === 0) return new Set();
  const c = await cluster.channel(cluster.map.defaultShard);
  try {
    const facts = await loadViewFacts(c, names);
    const reads = (n: string) => facts.get(n)?.reads ?? [];
    return new Set(names.filter((n) => reads(n).some((t) => cluster.map.kindOf(t).kind === 'sharded')));
  } finally {
    c.release();
  }
}

/** Reference tables small enough to hold as local copies on the coordinator. */
async function copied(cluster: Cluster, catalog: CatalogSnapshot): Promise<Set<string>> {
  const tables = catalog.relations.filter(
    (r) => r.kind === 'r' && cluster.map.kindOf(r.name).kind === 'reference',
  );
  const c = await cluster.channel(cluster.map.defaultShard);
  try {
    return await copyableReferences(c, tables);
  } finally {
    c.release();
  }
}

/** The coordinator's mirror of `catalog`, rebuilt on `c`. */
export async function rebuild(c: ShardChannel, cluster: Cluster, catalog: CatalogSnapshot): Promise<Mirror> {
  const db = cluster.db.config;
  const servers: ShardServer[] = db.shards.map((s) => ({
    ...parseHostPort(s.primary),
    database: s.database ?? db.backend.database,
  }));
  const readers = await shardedReaders(cluster, catalog);
  const layout = layoutOf(catalog, db.sharding!, servers.length, readers, await copied(cluster, catalog));
  let copies: ReferenceCopy[];
  await runSimple(c, 'BEGIN');
  try {
    const setup = [...dropStatements(), ...serverStatements(servers, db.backend), ...layout.schemas];
    for (const sql of setup) await runSimple(c, sql);
    // A type that cannot be made leaves out the tables using it (their own error says why).
    for (const sql of layout.enums) await attempt(c, [sql]);
    for (const [name, sql] of layout.relations) {
      const error = await attempt(c, sql);
      if (error) layout.skipped.set(name.slice(name.indexOf('.') + 1), error);
    }
    // Views over views: each round creates those whose relations exist, until a round creates none.
    let pending = layout.views;
    const errors = new Map<string, string>();
    while (pending.length > 0) {
      const left: typeof pending = [];
      for (const v of pending) {
        const error = await attempt(c, [v.sql]);
        if (error) {
          left.push(v);
          errors.set(v.name, error);
        }
      }
      if (left.length === pending.length) break;
      pending = left;
    }
    for (const v of pending) layout.skipped.set(v.name, errors.get(v.name)!);
    copies = layout.copies.filter((copy) => !layout.skipped.has(copy.key.slice(copy.key.indexOf('.') + 1)));
    for (const sql of refreshStatements(copies)) await runSimple(c, sql);
    await runSimple(c, 'COMMIT');
  } catch (err) {
    await runSimple(c, 'ROLLBACK').catch(() => {});
    throw err;
  }
  return { skipped: layout.skipped, copies };
}
