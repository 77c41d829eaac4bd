// What a translated statement is: its MySQL text, output columns, and how RETURNING reads rows back.
import { kindOf, namesOf, type Node } from './ast.js';
import type { TableInfo } from './catalog.js';
import type { Frag, Slot } from './fragments.js';
import type { PgType } from './pg-types.js';

export interface OutputColumn {
  readonly name: string;
  readonly type: PgType;
  readonly typeModifier: number;
  /** avg() PostgreSQL's way: MySQL returns this column's sum and then its count. */
  readonly average?: boolean;
}

/** How INSERT ... RETURNING reads the inserted rows back: by the keys given, or by the generated ids. */
export interface ReadBack {
  /** The select list and FROM of the read-back query; the key list is added at run time. */
  readonly select: Frag;
  /** The table's alias in `select`, to filter on the key. */
  readonly alias: string;
  readonly key: string;
  readonly keyType: PgType;
  /** Key values as inserted, or 'generated' for an AUTO_INCREMENT key the statement left out. */
  readonly keys: readonly (Slot | string)[] | 'generated';
}

/** UPDATE/DELETE ... RETURNING: keys found and locked first, the statement limited to them, rows read by key. */
export interface Keyed {
  /** SELECT of the key column ... FOR UPDATE, with the statement's WHERE. */
  readonly find: Frag;
  /** RETURNING's select list and the key, FROM the table; ` WHERE alias.key IN (…)` is added at run time. */
  readonly select: Frag;
  readonly alias: string;
  readonly key: string;
  /** DELETE reads its rows before deleting them; UPDATE after. */
  readonly readFirst: boolean;
}

export interface Plan {
  readonly kind: 'select' | 'insert' | 'update' | 'delete';
  readonly statement: Frag;
  readonly columns: readonly OutputColumn[] | null;
  readonly readBack?: ReadBack;
  readonly keyed?: Keyed;
  /** ON CONFLICT DO NOTHING: MySQL counts each skipped row as affected; the statement counts them in @polyproxy_skipped. */
  readonly countsSkipped?: boolean;
  /** INSERT ... ON CONFLICT DO UPDATE: every row is inserted or updated, and PostgreSQL counts each once. */
  readonly rowsProposed?: number;
}

/** The tables a statement names on the claimed schema, read from the catalog before translating. */
export type Tables = ReadonlyMap<string, TableInfo>;

/** PostgreSQL's name for an unnamed select-list column (FigureColname). */
export function columnName(node: Node): string {
  const kind = kindOf(node);
  const body = (node as Record<string, Node>)[kind];
  switch (kind) {
    case 'ColumnRef': {
      const names = namesOf(body.fields);
      return names[names.length - 1] || '?column?';
    }
    case 'FuncCall':
      return namesOf(body.funcname).pop() ?? '?column?';
    case 'TypeCast': {
      const inner = columnName(body.arg as Node);
      return inner !== '?column?' ? inner : (namesOf((body.typeName as Node).names).pop() ?? '?column?');
    }
    case 'CaseExpr':
      return 'case';
    case 'CoalesceExpr':
      return 'coalesce';
    case 'A_Expr':
      return body.kind === 'AEXPR_NULLIF' ? 'nullif' : '?column?';
    case 'SQLValueFunction':
      return String(body.op).replace('SVFOP_', '').toLowerCase();
    case 'SubLink':
      return body.subLinkType === 'EXISTS_SUBLINK' ? 'exists' : '?column?';
    default:
      return '?column?';
  }
}
