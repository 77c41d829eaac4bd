// Runs a grouped plan as a few aggregation pipelines ($match, $group) and merges their per-group results.
// One accumulator per $group: FerretDB v1 evaluates only the first of several, and has neither $min/$max nor $cond,
// so non-null counts come from grouping by $type, and min/max (there) from grouping by value.
import type { Db, Document } from 'mongodb';
import type { Row } from '../../api.js';
import { bsonKind, toBigInt, toNumber } from './bson-kinds.js';
import { pathKey } from './expressions.js';
import { readOptions } from './find-run.js';
import { divideNumeric } from './numeric-division.js';
import { formatValue } from './pg-text.js';
import { float8Text } from '../../../protocol/float-text.js';
import type { GroupPlan, GroupRow } from './plans.js';
import { compareForOrder, compareSortable, sortable, type Sortable } from './sql-compare.js';

export interface ServerFeatures {
  /** $min/$max accumulators (MongoDB; not FerretDB v1). */
  readonly minMaxAccumulators: boolean;
}

interface Accumulated {
  keys: unknown[];
  rows: number;
  nonNull: number[];
  sums: unknown[];
  least: unknown[];
  greatest: unknown[];
}

interface Pass {
  readonly pipeline: Document[];
  readonly absorb: (doc: Document, group: Accumulated) => void;
}

const distinct = (paths: string[]) => [...new Set(paths)];

function argPaths(plan: GroupPlan, fns: string[]): string[] {
  return distinct(
    plan.aggregates.filter((a) => a.arg && fns.includes(a.fn)).map((a) => pathKey(a.arg!.path)),
  );
}

function keyExpression(plan: GroupPlan, extra: Record<string, unknown> = {}): unknown {
  const fields: Record<string, unknown> = {};
  plan.keys.forEach((key, i) => (fields[`k${i}`] = `$${pathKey(key.path)}`));
  Object.assign(fields, extra);
  return Object.keys(fields).length ? fields : null;
}

/** Missing and null are one group in SQL; numbers group by value whatever their BSON type. */
function normalizedKey(values: readonly unknown[]): string {
  return JSON.stringify(
    values.map((v) => {
      const s = sortable(v);
      return typeof s === 'bigint' ? Number(s) : s;
    }),
  );
}

function passesFor(plan: GroupPlan, features: ServerFeatures): Pass[] {
  const counted = argPaths(plan, ['count', 'sum', 'avg']);
  const summed = argPaths(plan, ['sum', 'avg']);
  const extremes = argPaths(plan, ['min', 'max']);
  const match = { $match: plan.filter };
  const typeKeys = Object.fromEntries(counted.map((path, i) => [`t${i}`, { $type: `$${path}` }]));
  const passes: Pass[] = [
    {
      pipeline: [match, { $group: { _id: keyExpression(plan, typeKeys), n: { $sum: 1 } } }],
      absorb: (doc, group) => {
        const n = toNumber(doc.n);
        group.rows += n;
        counted.forEach((_, i) => {
          const type = (doc._id as Record<string, unknown>)[`t${i}`];
          if (type !== 'missing' && type !== 'null') group.nonNull[i] += n;
        });
      },
    },
  ];
  for (const [i, path] of summed.entries())
    passes.push({
      pipeline: [match, { $group: { _id: keyExpression(plan), s: { $sum: `$${path}` } } }],
      absorb: (doc, group) => (group.sums[i] = doc.s),
    });
  for (const [i, path] of extremes.entries()) {
    const consider = (value: unknown, group: Accumulated) => {
      const v = sortable(value);
      if (v === null) return;
      const least = sortable(group.least[i]);
      const greatest = sortable(group.greatest[i]);
      if (least === null || compareSortable(v, least) < 0) group.least[i] = value;
      if (greatest === null || compareSortable(v, greatest) > 0) group.greatest[i] = value;
    };
    if (features.minMaxAccumulators) {
      for (const op of ['$min', '$max'])
        passes.push({
          pipeline: [match, { $group: { _id: keyExpression(plan), m: { [op]: `$${path}` } } }],
          absorb: (doc, group) => consider(doc.m, group),
        });
    } else {
      passes.push({
        pipeline: [match, { $group: { _id: keyExpression(plan, { v: `$${path}` }), n: { $sum: 1 } } }],
        absorb: (doc, group) => consider((doc._id as Record<string, unknown>).v, group),
      });
    }
  }
  return passes;
}

export function groupCommands(plan: GroupPlan, features: ServerFeatures): Record<string, unknown>[] {
  return passesFor(plan, features).map((pass) => ({ aggregate: plan.collection, pipeline: pass.pipeline }));
}

function aggregateValues(plan: GroupPlan, group: Accumulated): GroupRow['aggregates'] {
  const counted = argPaths(plan, ['count', 'sum', 'avg']);
  const summed = argPaths(plan, ['sum', 'avg']);
  const extremes = argPaths(plan, ['min', 'max']);
  return plan.aggregates.map((agg) => {
    if (!agg.arg) return { text: String(group.rows), value: BigInt(group.rows) };
    const path = pathKey(agg.arg.path);
    const nonNull = group.nonNull[counted.indexOf(path)] ?? 0;
    const type = agg.arg.type;
    switch (agg.fn) {
      case 'count':
        return { text: String(nonNull), value: BigInt(nonNull) };
      case 'min':
      case 'max': {
        const i = extremes.indexOf(path);
        const raw = agg.fn === 'min' ? group.least[i] : group.greatest[i];
        return { text: formatValue(raw, type), value: sortable(raw) };
      }
      case 'sum':
      case 'avg': {
        if (nonNull === 0) return { text: null, value: null };
        const sum = group.sums[summed.indexOf(path)];
        if (type === 'float8') {
          const value = agg.fn === 'sum' ? toNumber(sum) : toNumber(sum) / nonNull;
          return { text: float8Text(value), value };
        }
        if (agg.fn === 'sum') {
          const exact = type === 'numeric' ? undefined : toBigInt(sum);
          const text = exact !== undefined ? String(exact) : formatValue(sum, 'numeric');
          return { text, value: exact ?? sortable(sum) };
        }
        const text = divideNumeric(formatValue(sum, 'numeric') ?? '0', BigInt(nonNull));
        return { text, value: Number(text) };
      }
    }
  });
}

export async function runGroup(db: Db, plan: GroupPlan, features: ServerFeatures): Promise<Row[]> {
  const collection = db.collection(plan.collection);
  const counted = argPaths(plan, ['count', 'sum', 'avg']).length;
  const groups = new Map<string, Accumulated>();
  const groupFor = (keys: unknown[]): Accumulated => {
    const id = normalizedKey(keys);
    let group = groups.get(id);
    if (!group) {
      group = {
        keys,
        rows: 0,
        nonNull: new Array<number>(counted).fill(0),
        sums: [],
        least: [],
        greatest: [],
      };
      groups.set(id, group);
    }
    return group;
  };
  for (const pass of passesFor(plan, features)) {
    const docs = await collection.aggregate(pass.pipeline, readOptions).toArray();
    for (const doc of docs) {
      const id = (doc._id ?? {}) as Record<string, unknown>;
      const keys = plan.keys.map((_, i) => (bsonKind(id[`k${i}`]) === 'null' ? null : id[`k${i}`]));
      pass.absorb(doc, groupFor(keys));
    }
  }
  // Without GROUP BY, SQL answers one row even when nothing matched.
  if (plan.keys.length === 0 && groups.size === 0) groupFor([]);

  let rows: GroupRow[] = [...groups.values()].map((group) => ({
    keys: group.keys,
    aggregates: aggregateValues(plan, group),
  }));
  if (plan.having) rows = rows.filter((row) => plan.having!(row) === true);
  if (plan.order.length) {
    const valueOf = (row: GroupRow, source: GroupPlan['order'][number]['source']): Sortable =>
      source.kind === 'key' ? sortable(row.keys[source.index]) : row.aggregates[source.index].value;
    rows.sort((a, b) => {
      for (const key of plan.order) {
        const order = compareForOrder(
          valueOf(a, key.source),
          valueOf(b, key.source),
          key.descending,
          key.nullsFirst,
        );
        if (order !== 0) return order;
      }
      return 0;
    });
  }
  rows = rows.slice(plan.skip, plan.limit === null ? undefined : plan.skip + plan.limit);
  return rows.map((row) =>
    plan.columns.map((column) => {
      const { source } = column;
      if (source.kind === 'const') return source.text;
      if (source.kind === 'key') return formatValue(row.keys[source.index], column.type);
      if (source.kind === 'aggregate') return row.aggregates[source.index].text;
      return null;
    }),
  );
}
