// Where a statement on a sharded database runs: one shard, several, every shard, split, or refused (0A000).
//
// This module dispatches by statement kind and routes SELECT; INSERT, the other writes, COPY, the refusals
// and the per-node analysis they share live in the route-*.ts modules beside it.
import { nodeKind, type Node } from './ast-values.js';
import { analysisOf, kindsOf, oneShard, placementFor, setsOf } from './route-analysis.js';
import { routeCopy } from './route-copy.js';
import { routeInsert } from './route-insert.js';
import { mixRefusal, nestedRefusal, spreadRefusal } from './route-refusals.js';
import { unsupported, type RouteContext, type ShardRoute } from './route-types.js';
import { routeUpdateDelete } from './route-writes.js';

export type { MetaLookup, RouteContext, ShardRoute, TableMeta } from './route-types.js';

/** Routes one parsed statement (`{ SelectStmt: ... }` and the like). */
export function routeStatement(stmt: Node, ctx: RouteContext): ShardRoute {
  const k = nodeKind(stmt);
  if (!k) return { kind: 'single', shard: ctx.map.defaultShard, write: false, reason: 'empty' };
  const [kind, n] = k;
  switch (kind) {
    case 'SelectStmt':
      return routeSelect(stmt, n, ctx);
    case 'InsertStmt':
      return routeInsert(stmt, n, ctx);
    case 'UpdateStmt':
    case 'DeleteStmt':
      return routeUpdateDelete(stmt, kind, n, ctx);
    case 'CopyStmt':
      return routeCopy(n, ctx);
    case 'ExplainStmt': {
      const inner = routeStatement(n.query as Node, ctx);
      if (inner.kind === 'single') return { ...inner, reason: `explain:${inner.reason}` };
      if (inner.kind === 'unsupported') return inner;
      // Its SELECT alone on one shard would be a wrong plan, and EXPLAIN ANALYZE would write there alone.
      if (inner.kind === 'write-from-read')
        return unsupported(
          'EXPLAIN of a write that reads across shards is not supported',
          'use EXPLAIN ROUTE',
        );
      // EXPLAIN ANALYZE runs the statement: on the first shard alone it would write a part and report success.
      if ((inner.kind === 'multi-write' || inner.kind === 'insert-split') && explainAnalyzes(n))
        return unsupported(
          'EXPLAIN ANALYZE of a write on several shards is not supported (it would run on one shard only)',
          'use EXPLAIN ROUTE for the plan, or EXPLAIN ANALYZE a statement that names one shard key',
        );
      const shards =
        'shards' in inner
          ? inner.shards
          : inner.kind === 'insert-split'
            ? inner.parts.map((p) => p.shard)
            : [0];
      return { kind: 'single', shard: shards[0], write: false, reason: 'explain:first-shard' };
    }
    case 'PrepareStmt':
    case 'DeclareCursorStmt':
    case 'CreateTableAsStmt': {
      const refusal = nestedRefusal(kind, n, ctx);
      if (refusal) return refusal;
      if (kind === 'PrepareStmt')
        return { kind: 'single', shard: ctx.map.defaultShard, write: true, reason: 'default-shard' };
      return { kind: 'ddl', shards: ctx.map.allShards(), reason: 'ddl-all-shards' };
    }
    case 'VariableShowStmt':
    case 'ListenStmt':
    case 'NotifyStmt':
    case 'UnlistenStmt':
    case 'DoStmt':
    case 'CallStmt':
    case 'ExecuteStmt':
    case 'DeallocateStmt':
      return { kind: 'single', shard: ctx.map.defaultShard, write: true, reason: 'default-shard' };
    default:
      return { kind: 'ddl', shards: ctx.map.allShards(), reason: 'ddl-all-shards' };
  }
}

function routeSelect(stmt: Node, n: Node, ctx: RouteContext): ShardRoute {
  const a = analysisOf(stmt, ctx.map);
  const kinds = kindsOf(a, ctx);
  if ('kind' in kinds) return kinds;
  const writes = Boolean(n.lockingClause) || a.scopes.relations.some((r) => r.role !== 'read');
  if (kinds.sharded.length === 0) {
    const shard = kinds.unsharded.length > 0 ? kinds.unsharded[0].kind.shard : ctx.map.defaultShard;
    const reason =
      kinds.unsharded.length > 0
        ? 'unsharded-table'
        : kinds.reference.length > 0
          ? 'reference-table'
          : 'no-table';
    return { kind: 'single', shard, write: writes, reason };
  }
  if (kinds.unsharded.length > 0) return mixRefusal(kinds);
  if (a.scopes.root.into) {
    return unsupported(
      `SELECT INTO over sharded table "${kinds.sharded[0].ref.table}" would store only one shard's rows`,
      'create the table with CREATE TABLE and fill it through the proxy with INSERT … VALUES or COPY',
    );
  }
  const sets = setsOf(a, ctx);
  const shard = oneShard(sets);
  if (shard !== null) {
    return {
      kind: 'single',
      shard: shard < 0 ? ctx.map.defaultShard : shard,
      write: writes,
      reason: shard < 0 ? 'no-matching-shard' : 'shard-key',
    };
  }
  if (a.scopes.root.setOperation) {
    return unsupported(
      'UNION, INTERSECT and EXCEPT across shards are not supported',
      'run each part separately, or restrict every part to the same shard by its key',
    );
  }
  const refusal = spreadRefusal(a, ctx);
  if (refusal) return refusal;
  const shards = new Set<number>();
  let every = false;
  for (const p of placementFor(a, ctx).rootGroups[0]) {
    const s = sets.get(p)!;
    if (s === null) every = true;
    else for (const x of s) shards.add(x);
  }
  if (every) return { kind: 'scatter', shards: ctx.map.allShards(), reason: 'no-shard-key' };
  return { kind: 'scatter', shards: [...shards].sort((x, y) => x - y), reason: 'shard-keys' };
}

/** Whether an ExplainStmt's options ask to run the statement (ANALYZE, not ANALYZE false / off / 0). */
function explainAnalyzes(n: Node): boolean {
  const options = (n.options as Node[] | undefined) ?? [];
  return options.some((o) => {
    const def = o.DefElem as Node | undefined;
    if (def?.defname !== 'analyze') return false;
    const arg = def.arg as Node | undefined;
    if (!arg) return true;
    const text = (arg.String as Node | undefined)?.sval;
    if (typeof text === 'string') return !['false', 'off'].includes(text.toLowerCase());
    const int = arg.Integer as Node | undefined;
    return int ? Boolean(int.ival) : true;
  });
}
