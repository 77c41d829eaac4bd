// SubqueryWrite: UPDATE or DELETE whose subqueries read across shards. The coordinator evaluates them (one
// statement, one snapshot); the write runs on the shards with their values written in as constants, routed
// as any write (by the shard key when the values restrict it), in one transaction over the shards it writes.
import { runSimple, runStatement } from '../../backend/shard-exec.js';
import { StatementError } from '../../backend/statement-error.js';
import type { Node } from '../../router/sharding/ast-values.js';
import { placeholderOf } from '../../router/sharding/route-write-from-read.js';
import { parseHere } from '../../sql/parser.js';
import { outcomeOf, summedTag } from '../outcome.js';
import { statementOf, type ExecContext, type Outcome, type StatementPlan } from '../types.js';
import type { CoordinatorRead } from './coordinator-read.js';

/** The most values one subquery may give: they travel in the statement's text to every shard it writes. */
export const maxSubqueryValues = 100_000;

/** How the coordinator's query gives a sublink's value: the value expression over the subquery's text. */
export function valueExpression(sub: Node, subquery: string): string {
  switch (sub.subLinkType) {
    case 'EXISTS_SUBLINK':
      return `EXISTS (${subquery})`;
    case 'EXPR_SUBLINK':
      return `(${subquery})`;
    default:
      return `ARRAY(${subquery})`;
  }
}

/** A TypeName node for a type as PostgreSQL prints it (`integer[]`, `character varying`, `public.mood`). */
export function typeNameOf(type: string): Node {
  const parsed = parseHere(`SELECT NULL::${type}`);
  const target = parsed.ok ? (parsed.statements[0] as Node).SelectStmt : undefined;
  const cast = ((target as Node | undefined)?.targetList as Node[] | undefined)?.[0];
  const typeName = ((cast?.ResTarget as Node | undefined)?.val as Node | undefined)?.TypeCast as
    Node | undefined;
  if (!typeName) throw StatementError.unsupported(`cannot write a value of type ${type} into a statement`);
  return typeName.typeName as Node;
}

export class SubqueryWrite implements StatementPlan {
  readonly children: CoordinatorRead[];

  constructor(
    readonly read: CoordinatorRead,
    readonly table: string,
    private readonly stmt: Node,
    private readonly sublinks: Node[],
    /** The rewritten statement as SQL, its client parameters written in. */
    private readonly sqlOf: (stmt: Node) => string,
  ) {
    this.children = [read];
  }

  describe(): string {
    const shown = this.rewrite(this.sublinks.map((_, i) => ({ ParamRef: { number: 1000 + i } })));
    return `SubqueryWrite table=${this.table} commit=two-phase shards=by-route-of-values sql=${JSON.stringify(this.sqlOf(shown))}`;
  }

  async execute(ctx: ExecContext): Promise<Outcome> {
    const st = statementOf(ctx);
    const values = await this.read.on(async (c) => {
      // The values' text goes into the statement: floats print exactly whatever extra_float_digits the client set.
      await runSimple(c, 'BEGIN READ ONLY; SET LOCAL extra_float_digits = 3');
      try {
        return await runStatement(c, this.read.sql);
      } finally {
        await runSimple(c, 'ROLLBACK').catch(() => {});
      }
    });
    const row = values.rows[0];
    const constants = this.sublinks.map((_, i) => {
      const count = Number(row[3 * i + 2]?.toString() ?? 0);
      if (count > maxSubqueryValues)
        throw StatementError.unsupported(
          `a subquery of this write to "${this.table}" gave ${count} values; at most ${maxSubqueryValues} are written into the statement`,
          'narrow the subquery, or write in several statements',
        );
      const text = row[3 * i]?.toString() ?? null;
      const arg = text === null ? { A_Const: { isnull: true } } : { A_Const: { sval: { sval: text } } };
      return { TypeCast: { arg, typeName: typeNameOf(row[3 * i + 1]!.toString()) } };
    });
    const rewritten = this.rewrite(constants);
    const route = this.read.access.route(rewritten);
    const shards =
      route.kind === 'single' ? [route.shard] : route.kind === 'multi-write' ? route.shards : null;
    if (!shards) {
      const why = route.kind === 'unsupported' ? route.message : `it routes as ${route.kind}`;
      throw StatementError.unsupported(
        `this write to "${this.table}" cannot run with its subqueries' values: ${why}`,
      );
    }
    const sql = this.sqlOf(rewritten);
    return st.onShards(shards, { atomic: true, write: true }, async (chs) => {
      const answers = await st.onEach(chs, (c) => runStatement(c, sql, undefined, st.formats));
      return { ...outcomeOf(answers), tag: summedTag(answers) };
    });
  }

  /** The statement with each sublink replaced by the expression of its value. */
  private rewrite(values: Node[]): Node {
    const swap = (node: unknown): unknown => {
      if (Array.isArray(node)) return node.map(swap);
      if (node === null || typeof node !== 'object') return node;
      const sub = (node as Node).SubLink as Node | undefined;
      const i = sub ? this.sublinks.indexOf(sub) : -1;
      if (i >= 0) return placeholderOf(sub!, values[i]);
      const out: Node = {};
      for (const [k, v] of Object.entries(node)) out[k] = swap(v);
      return out;
    };
    return swap(this.stmt) as Node;
  }
}
