// Filter: HAVING, evaluated over merged groups (shards cannot apply it to their partial groups).
import { comparerFor } from '../values/compare.js';
import type { Column, ExecContext, Operator, ResultSet, Row } from '../types.js';

export type Predicate =
  | { kind: 'column'; index: number }
  | { kind: 'constant'; value: string | null }
  | { kind: 'compare'; op: '=' | '<>' | '<' | '>' | '<=' | '>='; left: Predicate; right: Predicate }
  | { kind: 'and' | 'or'; args: Predicate[] }
  | { kind: 'not'; arg: Predicate }
  | { kind: 'is-null'; arg: Predicate; negated: boolean };

type Value = Buffer | null;

export class Filter implements Operator {
  readonly children: Operator[];

  constructor(
    child: Operator,
    readonly predicate: Predicate,
  ) {
    this.children = [child];
  }

  describe(): string {
    return `Filter ${describePredicate(this.predicate)}`;
  }

  async run(ctx: ExecContext): Promise<ResultSet> {
    const input = await this.children[0].run(ctx);
    return {
      columns: input.columns,
      rows: input.rows.filter((r) => truth(this.predicate, r, input.columns) === true),
    };
  }
}

/** SQL's three-valued logic: true, false or null (unknown). */
function truth(p: Predicate, row: Row, columns: Column[]): boolean | null {
  switch (p.kind) {
    case 'and': {
      const values = p.args.map((a) => truth(a, row, columns));
      return values.includes(false) ? false : values.includes(null) ? null : true;
    }
    case 'or': {
      const values = p.args.map((a) => truth(a, row, columns));
      return values.includes(true) ? true : values.includes(null) ? null : false;
    }
    case 'not': {
      const v = truth(p.arg, row, columns);
      return v === null ? null : !v;
    }
    case 'is-null':
      return (value(p.arg, row) === null) !== p.negated;
    case 'compare': {
      const l = value(p.left, row);
      const r = value(p.right, row);
      if (l === null || r === null) return null;
      const typed = p.left.kind === 'column' ? p.left : p.right.kind === 'column' ? p.right : null;
      const c = (typed ? comparerFor(columns[typed.index].typeOid) : Buffer.compare)(l, r);
      return { '=': c === 0, '<>': c !== 0, '<': c < 0, '>': c > 0, '<=': c <= 0, '>=': c >= 0 }[p.op];
    }
    default: {
      const v = value(p, row);
      return v === null ? null : v.toString() === 't' || v.toString() === 'true';
    }
  }
}

function value(p: Predicate, row: Row): Value {
  if (p.kind === 'column') return row[p.index];
  if (p.kind === 'constant') return p.value === null ? null : Buffer.from(p.value);
  return null;
}

export function describePredicate(p: Predicate): string {
  switch (p.kind) {
    case 'column':
      return `$${p.index + 1}`;
    case 'constant':
      return p.value === null ? 'NULL' : JSON.stringify(p.value);
    case 'compare':
      return `${describePredicate(p.left)} ${p.op} ${describePredicate(p.right)}`;
    case 'and':
    case 'or':
      return `(${p.args.map(describePredicate).join(` ${p.kind.toUpperCase()} `)})`;
    case 'not':
      return `NOT ${describePredicate(p.arg)}`;
    case 'is-null':
      return `${describePredicate(p.arg)} IS ${p.negated ? 'NOT ' : ''}NULL`;
  }
}
