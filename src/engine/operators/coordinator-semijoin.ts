// Runs the semi-join reduction of a coordinator statement: the reference side's keys are read on the
// coordinator (local copies: cheap), and the statement sent carries them as `col = ANY('{…}')`, which
// postgres_fdw ships to the shards with the scan.
import type { ShardChannel } from '../../backend/shard-channel.js';
import { runSimple, textOf } from '../../backend/shard-exec.js';
import type { Node } from '../../router/sharding/ast-values.js';
import { deparseSql } from '../../sql/deparse.js';
import { parseHere } from '../../sql/parser.js';
import { addKeyFilter, keyLimit, reductionsOf, type RelationLookup } from './coordinator-reduction.js';

/** On in service; the TPC-H comparison turns it off between runs to measure what it saves. */
export const semiJoinReduction = { enabled: true };

const deparse = (node: Node): string => deparseSql(node);

const withoutLocations = (node: unknown): string =>
  JSON.stringify(node, (key, value: unknown) => (key === 'location' ? undefined : value));

/** Statements whose deparsed text parses back to the same tree: only those are sent rewritten. */
const faithful = new WeakMap<Node, boolean>();

export function deparsesFaithfully(stmt: Node): boolean {
  let ok = faithful.get(stmt);
  if (ok === undefined) {
    try {
      const back = parseHere(deparse(stmt));
      ok =
        back.ok &&
        back.statements.length === 1 &&
        withoutLocations(back.statements[0]) === withoutLocations(stmt);
    } catch {
      ok = false;
    }
    faithful.set(stmt, ok);
  }
  return ok;
}

const arrayTypes = new Map<string, Node | null>();

/** The TypeName node of `type[]`, as the parser reads it; null when the type's name does not parse. */
function arrayTypeName(type: string): Node | null {
  let node = arrayTypes.get(type);
  if (node === undefined) {
    const parsed = parseHere(`SELECT NULL::${type}[]`);
    const target = parsed.ok ? (parsed.statements[0]?.SelectStmt as Node | undefined) : undefined;
    const val = ((target?.targetList as Node[] | undefined)?.[0]?.ResTarget as Node | undefined)?.val as
      Node | undefined;
    node = ((val?.TypeCast as Node | undefined)?.typeName as Node | undefined) ?? null;
    arrayTypes.set(type, node);
  }
  return node;
}

/**
 * The statement's text with the key filters of its reductions added, or `sql` itself when none applies
 * (no sharded table joined to a reference table, more keys than the limit, or a tree the deparser would
 * not write back faithfully). A key query that fails only loses its filter.
 */
export async function reducedSql(
  c: ShardChannel,
  stmt: Node,
  sql: string,
  lookup: RelationLookup,
): Promise<string> {
  if (!semiJoinReduction.enabled || !deparsesFaithfully(stmt)) return sql;
  const copy = structuredClone(stmt);
  const reductions = reductionsOf(copy, lookup);
  const answers = new Map<string, Promise<string[] | null>>();
  let applied = 0;
  for (const r of reductions) {
    const typeName = arrayTypeName(r.type);
    if (!typeName) continue;
    const keySql = deparse(r.keySql);
    if (!answers.has(keySql)) answers.set(keySql, readKeys(c, keySql));
    const keys = await answers.get(keySql)!;
    if (!keys) continue;
    addKeyFilter(r, keys, typeName);
    applied++;
  }
  return applied ? deparse(copy) : sql;
}

async function readKeys(c: ShardChannel, keySql: string): Promise<string[] | null> {
  const answer = await runSimple(c, keySql).catch(() => null);
  if (!answer || answer.rows.length > keyLimit) return null;
  return answer.rows.map((row) => textOf(row[0])!);
}
