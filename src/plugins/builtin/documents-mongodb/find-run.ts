// Runs a find plan. MongoDB sorts missing/null first ascending, PostgreSQL last: where they differ, the sort is split
// into segments (non-null rows, then null rows, or the other way) that run in order, each fully pushed down.
import type { Db } from 'mongodb';
import { valueAt } from './bson-kinds.js';
import { unsupported } from './errors.js';
import { pathKey } from './expressions.js';
import type { Filter } from './filter.js';
import { formatJsonb, formatValue } from './pg-text.js';
import type { FindPlan, OutputColumn } from './plans.js';
import type { Row } from '../../api.js';

export interface Segment {
  readonly filter: Filter;
  readonly sort: Record<string, 1 | -1>;
}

const maxSegments = 16;
export const readOptions = { promoteValues: false, promoteLongs: false } as const;

export function segmentsFor(plan: FindPlan): Segment[] {
  let segments: { conditions: Filter[]; sort: [string, 1 | -1][] }[] = [{ conditions: [], sort: [] }];
  for (const key of plan.sort) {
    const field = pathKey(key.path);
    const step: [string, 1 | -1] = [field, key.descending ? -1 : 1];
    const mongoNullsFirst = !key.descending;
    if (key.nullsFirst === mongoNullsFirst || field === '_id') {
      segments = segments.map((s) => ({ ...s, sort: [...s.sort, step] }));
      continue;
    }
    segments = segments.flatMap((s) => {
      const present = { conditions: [...s.conditions, { [field]: { $ne: null } }], sort: [...s.sort, step] };
      const absent = { conditions: [...s.conditions, { [field]: { $eq: null } }], sort: s.sort };
      return key.nullsFirst ? [absent, present] : [present, absent];
    });
    if (segments.length > maxSegments)
      throw unsupported(
        'this many ORDER BY columns with PostgreSQL NULL placement',
        'add NULLS FIRST to ascending and NULLS LAST to descending keys (MongoDB order), or declare fewer nullable keys',
      );
  }
  return segments.map(({ conditions, sort }) => {
    const all = [plan.filter, ...conditions].filter((f) => Object.keys(f).length > 0);
    return {
      filter: all.length === 0 ? {} : all.length === 1 ? all[0] : { $and: all },
      sort: Object.fromEntries(sort),
    };
  });
}

/** One result row from a document. */
export function rowFrom(doc: unknown, columns: readonly OutputColumn[]): Row {
  return columns.map((column) => {
    const { source } = column;
    if (source.kind === 'const') return source.text;
    if (source.kind !== 'field') return null;
    if (source.path.length === 0) return formatJsonb(doc);
    return formatValue(valueAt(doc, source.path), column.type);
  });
}

/** The MongoDB commands a find plan runs, for EXPLAIN ROUTE. */
export function findCommands(plan: FindPlan): Record<string, unknown>[] {
  const segments = segmentsFor(plan);
  return segments.map((segment, i) => ({
    find: plan.collection,
    filter: segment.filter,
    ...(plan.projection ? { projection: plan.projection } : {}),
    ...(Object.keys(segment.sort).length ? { sort: segment.sort } : {}),
    ...(segments.length === 1 && plan.skip ? { skip: plan.skip } : {}),
    ...(plan.limit !== null ? { limit: plan.limit } : {}),
    ...(segments.length > 1 ? { segment: `${i + 1} of ${segments.length}` } : {}),
  }));
}

export async function runFind(db: Db, plan: FindPlan): Promise<Row[]> {
  const collection = db.collection(plan.collection);
  const segments = segmentsFor(plan);
  const rows: Row[] = [];
  let skip = plan.skip;
  let remaining = plan.limit;
  for (const segment of segments) {
    if (remaining === 0) break;
    // Only a later segment needs to know how many rows an earlier one would have skipped.
    if (segments.length > 1 && skip > 0) {
      const count = await collection.countDocuments(segment.filter);
      if (count <= skip) {
        skip -= count;
        continue;
      }
    }
    const docs = await collection
      .find(segment.filter, {
        ...readOptions,
        ...(plan.projection ? { projection: plan.projection } : {}),
        sort: segment.sort,
        skip,
        limit: remaining ?? 0,
      })
      .toArray();
    skip = 0;
    if (remaining !== null) remaining -= docs.length;
    for (const doc of docs) rows.push(rowFrom(doc, plan.columns));
  }
  return rows;
}
