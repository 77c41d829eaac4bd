// Bench plugin: a table `mem.items (id, name, qty)` held in a Map in the proxy, read by primary key (the floor of any plugin call).
import type { PolyproxyPlugin, ResultColumn, Row, Statement } from '../../plugins/api.js';
import { PluginError } from '../../plugins/api.js';
import { errorCodes } from '../../errors.js';

type Node = Record<string, unknown>;

export const memoryRows = 1000;

/** Row `id` (1…memoryRows) as mysql-point's table holds it: id, `item-<id>`, (id - 1) % 100. */
export const memoryRow = (id: number): Row => [String(id), `item-${id}`, String((id - 1) % 100)];

const columns: ResultColumn[] = [
  { name: 'id', typeOid: 23 },
  { name: 'name', typeOid: 25 },
  { name: 'qty', typeOid: 23 },
];

const refuse = () =>
  new PluginError(
    errorCodes.featureNotSupported.sqlstate,
    'memory-point: only SELECT id, name, qty FROM mem.items WHERE id = <integer or $1>',
  );

/** The key of `WHERE id = <integer constant or $n>`. */
function keyOf(stmt: Statement): number {
  const expr = ((stmt.ast.SelectStmt as Node | undefined)?.whereClause as Node | undefined)?.A_Expr as
    { lexpr?: Node; rexpr?: Node } | undefined;
  const value = expr?.rexpr;
  if (value?.ParamRef) {
    const param = stmt.params[((value.ParamRef as { number?: number }).number ?? 1) - 1];
    if (param !== null && param !== undefined) return Number(param);
  }
  const constant = value?.A_Const as { ival?: { ival?: number } } | undefined;
  if (constant?.ival) return constant.ival.ival ?? 0;
  throw refuse();
}

const plugin: PolyproxyPlugin = {
  name: 'memory-point',
  polyproxy: '>=0.1.0',
  register(ctx) {
    const rows = new Map<number, Row>();
    for (let id = 1; id <= memoryRows; id++) rows.set(id, memoryRow(id));
    ctx.claim(
      { schemas: ['mem'] },
      {
        async describe(stmt) {
          if (!('SelectStmt' in stmt.ast)) throw refuse();
          return { columns };
        },
        async execute(stmt) {
          const row = rows.get(keyOf(stmt));
          return { columns, rows: row ? [row] : [], command: `SELECT ${row ? 1 : 0}` };
        },
        explain: () => 'memory-point: Map.get(id)',
      },
    );
  },
};

export default plugin;
