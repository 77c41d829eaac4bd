// Aggregate: merges the shards' partial aggregates per group (count and sum add up, avg = sum / count).
import {
  addNumeric,
  divideNumeric,
  formatNumeric,
  parseNumeric,
  type NumericValue,
} from '../values/numeric.js';
import { comparerFor } from '../values/compare.js';
import { parseFloatText } from '../values/float.js';
import { float8Text } from '../../protocol/float-text.js';
import { Oid, floatTypes, integerTypes } from '../values/type-oids.js';
import {
  computedColumn,
  type Column,
  type ExecContext,
  type Operator,
  type ResultSet,
  type Row,
} from '../types.js';
import { rowKey } from './distinct.js';

export type AggKind = 'count' | 'sum' | 'min' | 'max' | 'avg' | 'bool_and' | 'bool_or';

export interface AggSpec {
  kind: AggKind;
  /** Column of the shard rows with the partial value (avg: its sum; the count follows it). */
  input: number;
}

/** An output column: a group key column of the shard rows, or a merged aggregate. */
/** An output column: a group key or an aggregate; `cast` marks one a Cast operator converts afterwards. */
export type OutputRef = ({ group: number } | { agg: number }) & { name: string; cast?: boolean };

type Sum = { kind: 'int'; v: bigint } | { kind: 'numeric'; v: NumericValue } | { kind: 'float'; v: number };

interface Group {
  keys: Row;
  states: (Buffer | Sum | bigint | null)[];
  counts: bigint[];
}

export class Aggregate implements Operator {
  readonly children: Operator[];

  constructor(
    child: Operator,
    /** Columns of the shard rows that are GROUP BY keys. */
    readonly groupColumns: number[],
    readonly aggs: AggSpec[],
    readonly outputs: OutputRef[],
  ) {
    this.children = [child];
  }

  describe(): string {
    const aggs = this.aggs.map(
      (a) => `${a.kind}($${a.input + 1}${a.kind === 'avg' ? `/$${a.input + 2}` : ''})`,
    );
    const group = this.groupColumns.map((g) => `$${g + 1}`);
    const out = this.outputs.map((o) => ('group' in o ? `$${o.group + 1}` : `agg${o.agg}`));
    return `Aggregate group=[${group.join(', ')}] aggs=[${aggs.join(', ')}] output=[${out.join(', ')}]`;
  }

  async run(ctx: ExecContext): Promise<ResultSet> {
    const input = await this.children[0].run(ctx);
    const types = input.columns.map((c) => c.typeOid);
    const groups = new Map<string, Group>();
    for (const row of input.rows) {
      const keys = this.groupColumns.map((g) => row[g]);
      const key = rowKey(keys, keys.length);
      let group = groups.get(key);
      if (!group) {
        group = { keys, states: this.aggs.map(() => null), counts: this.aggs.map(() => 0n) };
        groups.set(key, group);
      }
      this.accumulate(group, row, types);
    }
    const columns = this.outputs.map((o) => this.outputColumn(o, input.columns));
    const rows = [...groups.values()].map((g) =>
      this.outputs.map((o) =>
        'group' in o ? g.keys[this.groupColumns.indexOf(o.group)] : this.finish(o.agg, g),
      ),
    );
    return { columns, rows };
  }

  private accumulate(group: Group, row: Row, types: number[]): void {
    this.aggs.forEach((a, i) => {
      const v = row[a.input];
      switch (a.kind) {
        case 'count':
          group.states[i] = ((group.states[i] as bigint | null) ?? 0n) + BigInt(v?.toString() ?? '0');
          return;
        case 'sum':
          if (v !== null) group.states[i] = addSum(group.states[i] as Sum | null, v, types[a.input]);
          return;
        case 'avg':
          if (v !== null) group.states[i] = addSum(group.states[i] as Sum | null, v, types[a.input]);
          group.counts[i] += BigInt(row[a.input + 1]?.toString() ?? '0');
          return;
        case 'min':
        case 'max': {
          if (v === null) return;
          const best = group.states[i] as Buffer | null;
          const c = best === null ? 0 : comparerFor(types[a.input])(v, best);
          if (best === null || (a.kind === 'min' ? c < 0 : c > 0)) group.states[i] = Buffer.from(v);
          return;
        }
        case 'bool_and':
        case 'bool_or': {
          if (v === null) return;
          const prev = group.states[i] as Buffer | null;
          const t = v[0] === 0x74;
          const merged =
            prev === null ? t : a.kind === 'bool_and' ? prev[0] === 0x74 && t : prev[0] === 0x74 || t;
          group.states[i] = Buffer.from(merged ? 't' : 'f');
          return;
        }
      }
    });
  }

  private finish(i: number, group: Group): Buffer | null {
    const a = this.aggs[i];
    const state = group.states[i];
    if (a.kind === 'count') return Buffer.from(String(state ?? 0n));
    if (state === null) return null;
    if (a.kind === 'sum') return Buffer.from(formatSum(state as Sum));
    if (a.kind === 'avg') {
      const count = group.counts[i];
      if (count === 0n) return null;
      const sum = state as Sum;
      if (sum.kind === 'float') return Buffer.from(float8Text(sum.v / Number(count)));
      const total = sum.kind === 'int' ? { coef: sum.v, scale: 0 } : sum.v;
      return Buffer.from(formatNumeric(divideNumeric(total, { coef: count, scale: 0 })));
    }
    return state as Buffer;
  }

  private outputColumn(o: OutputRef, columns: Column[]): Column {
    if ('group' in o) return { ...columns[o.group], name: o.name };
    const a = this.aggs[o.agg];
    const partial = columns[a.input];
    switch (a.kind) {
      case 'count':
        return computedColumn(o.name, Oid.int8);
      case 'avg':
        return computedColumn(o.name, floatTypes.has(partial.typeOid) ? Oid.float8 : Oid.numeric);
      case 'bool_and':
      case 'bool_or':
        return computedColumn(o.name, Oid.bool);
      default:
        return { ...computedColumn(o.name, partial.typeOid), typeSize: partial.typeSize };
    }
  }
}

function addSum(prev: Sum | null, v: Buffer, typeOid: number): Sum {
  const text = v.toString();
  if (integerTypes.has(typeOid))
    return { kind: 'int', v: (prev?.kind === 'int' ? prev.v : 0n) + BigInt(text) };
  if (floatTypes.has(typeOid))
    return { kind: 'float', v: (prev?.kind === 'float' ? prev.v : 0) + parseFloatText(text) };
  const n = parseNumeric(text);
  return { kind: 'numeric', v: prev?.kind === 'numeric' ? addNumeric(prev.v, n) : n };
}

function formatSum(s: Sum): string {
  if (s.kind === 'int') return s.v.toString();
  if (s.kind === 'float') return float8Text(s.v);
  return formatNumeric(s.v);
}
