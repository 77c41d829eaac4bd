// Example plugin: a key-value table kept in the proxy's memory (`kv.entries`), and a count of committed writes per table (`kv.commits`).
//
// Enable it with `plugins: { kv: { module: ./dist/plugins/examples/kv-memory.js, options: { max_keys: 1000 } } }`.
// It shows every hook: a claim answered with rows, transactional writes joined to the client's block
// (enlist), a commit hook, a config schema, metrics and start/stop.
import { z } from 'zod';
import type { ResultColumn, Statement, StatementResult, PolyproxyPlugin } from '../api.js';
import { PluginError } from '../api.js';
import { errorCodes, type ErrorCode } from '../../errors.js';

const configSchema = z.strictObject({ max_keys: z.int().min(1).default(1000) });

type Node = Record<string, unknown>;

/** A refusal with the SQLSTATE PostgreSQL gives for the same condition, taken from the proxy's registry. */
function kvError(code: ErrorCode, message: string, hint?: string): PluginError {
  return new PluginError(errorCodes[code].sqlstate, message, hint);
}

const entryColumns: ResultColumn[] = [
  { name: 'key', typeOid: 25 },
  { name: 'value', typeOid: 25 },
];
const commitColumns: ResultColumn[] = [
  { name: 'table_name', typeOid: 25 },
  { name: 'commits', typeOid: 20 },
];

/** A constant or $n in the statement, as text. */
function valueOf(node: unknown, stmt: Statement): string | null {
  const n = node as Node;
  if (n.ParamRef) return stmt.params[((n.ParamRef as { number: number }).number ?? 1) - 1] ?? null;
  const c = n.A_Const as { sval?: { sval: string }; ival?: { ival?: number }; isnull?: boolean } | undefined;
  if (c?.isnull) return null;
  if (c?.sval) return c.sval.sval;
  if (c?.ival) return String(c.ival.ival ?? 0);
  if (n.TypeCast) return valueOf((n.TypeCast as Node).arg, stmt);
  throw kvError('featureNotSupported', 'kv: only constants and parameters are supported as values');
}

/** `WHERE key = <value>`, or undefined for no WHERE. */
function keyFilter(where: unknown, stmt: Statement): string | null | undefined {
  if (!where) return undefined;
  const expr = (where as Node).A_Expr as {
    name?: { String: { sval: string } }[];
    lexpr?: Node;
    rexpr?: Node;
  };
  const column = (expr?.lexpr?.ColumnRef as { fields?: { String?: { sval: string } }[] })?.fields?.at(-1)
    ?.String?.sval;
  if (!expr || expr.name?.[0]?.String.sval !== '=' || column !== 'key')
    throw kvError('featureNotSupported', 'kv: WHERE supports only key = <value>', 'filter on the key column');
  return valueOf(expr.rexpr, stmt);
}

/** Which of key (0) and value (1) the select list asks for, in its order; `*` is both. */
function projection(select: Node): number[] {
  const targets = (select.targetList ?? []) as { ResTarget: { val: Node } }[];
  return targets.flatMap(({ ResTarget }) => {
    const fields = (ResTarget.val.ColumnRef as { fields?: Node[] } | undefined)?.fields ?? [];
    const last = fields.at(-1);
    if (last && 'A_Star' in last) return [0, 1];
    const name = (last?.String as { sval?: string } | undefined)?.sval;
    if (name === 'key') return [0];
    if (name === 'value') return [1];
    throw kvError(
      'undefinedColumn',
      `column "${name ?? '?'}" does not exist`,
      'kv.entries has key and value',
    );
  });
}

function tableOf(stmt: Statement): string {
  const table = stmt.tables[0];
  if (table !== 'kv.entries' && table !== 'kv.commits')
    throw kvError(
      'undefinedTable',
      `relation "${table}" does not exist`,
      'kv has the tables kv.entries and kv.commits',
    );
  return table;
}

/** Applies a change now, or at COMMIT when the client is inside a transaction block. */
function apply(stmt: Statement, change: () => void): void {
  if (!stmt.session.inTransaction) return change();
  let undone = false;
  stmt.session.enlist({
    commit: async () => {
      if (!undone) change();
    },
    rollback: async () => {
      undone = true;
    },
  });
}

/** SELECT from kv.entries: every entry or the one of `WHERE key = …`, in key order. */
function selectEntries(entries: Map<string, string | null>, body: Node, stmt: Statement): StatementResult {
  const key = keyFilter(body.whereClause, stmt);
  const picked = projection(body);
  const rows = [...entries]
    .filter(([k]) => key === undefined || k === key)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map((row) => picked.map((i) => row[i]));
  return { columns: picked.map((i) => entryColumns[i]), rows, command: `SELECT ${rows.length}` };
}

const plugin: PolyproxyPlugin<z.output<typeof configSchema>> = {
  name: 'kv-memory',
  polyproxy: '>=0.1.0',
  configSchema,
  register(ctx) {
    const entries = new Map<string, string | null>();
    const commits = new Map<string, number>();
    const writes = ctx.metrics.counter('writes', 'Rows written to kv.entries', ['kind']);

    const execute = async (stmt: Statement): Promise<StatementResult> => {
      const kind = Object.keys(stmt.ast)[0];
      const body = stmt.ast[kind] as Node;
      const table = tableOf(stmt);
      if (kind === 'SelectStmt' && table === 'kv.commits')
        return {
          columns: commitColumns,
          rows: [...commits].map(([t, n]) => [t, String(n)]),
          command: `SELECT ${commits.size}`,
        };
      if (kind === 'SelectStmt') return selectEntries(entries, body, stmt);
      if (table !== 'kv.entries') throw kvError('wrongObjectType', 'kv.commits is read-only');
      if (kind === 'InsertStmt') {
        const lists = (
          (body.selectStmt as Node).SelectStmt as { valuesLists: { List: { items: unknown[] } }[] }
        ).valuesLists;
        const rows = lists.map((l) => l.List.items.map((item) => valueOf(item, stmt)));
        if (entries.size + rows.length > ctx.config.max_keys)
          throw kvError('configurationLimitExceeded', `kv is full (max_keys ${ctx.config.max_keys})`);
        if (rows.some(([k]) => k === null)) throw kvError('notNullViolation', 'kv: key must not be null');
        if (rows.some(([k]) => entries.has(k!)))
          throw kvError(
            'uniqueViolation',
            'duplicate key value violates unique constraint "kv_entries_pkey"',
          );
        apply(stmt, () => rows.forEach(([k, v]) => entries.set(k!, v ?? null)));
        writes.inc({ kind: 'insert' }, rows.length);
        return { columns: null, rows: [], command: `INSERT 0 ${rows.length}` };
      }
      if (kind === 'DeleteStmt') {
        const key = keyFilter(body.whereClause, stmt);
        const doomed = [...entries.keys()].filter((k) => key === undefined || k === key);
        apply(stmt, () => doomed.forEach((k) => entries.delete(k)));
        writes.inc({ kind: 'delete' }, doomed.length);
        return { columns: null, rows: [], command: `DELETE ${doomed.length}` };
      }
      throw kvError('featureNotSupported', `kv: ${kind} is not supported`, 'use SELECT, INSERT or DELETE');
    };

    ctx.claim(
      { schemas: ['kv'] },
      {
        async describe(stmt) {
          const select = 'SelectStmt' in stmt.ast;
          if (!select) return { columns: null };
          if (tableOf(stmt) === 'kv.commits') return { columns: commitColumns };
          return { columns: projection(stmt.ast.SelectStmt as Node).map((i) => entryColumns[i]) };
        },
        execute,
        explain: (stmt) => `kv-memory table=${stmt.tables.join(',')}`,
      },
    );
    ctx.onCommit(async (write) => {
      for (const table of write.tables) commits.set(table, (commits.get(table) ?? 0) + 1);
    });
    ctx.onStart(() => ctx.log.info('kv-memory ready', { max_keys: ctx.config.max_keys }));
    ctx.onStop(() => entries.clear());
  },
};

export default plugin;
