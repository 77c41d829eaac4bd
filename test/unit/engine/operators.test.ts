// Operators over shard results given as data: merge order, limits, distinct, aggregate merging, HAVING.
import { describe, expect, it } from 'vitest';
import { Aggregate } from '../../../src/engine/operators/aggregate.js';
import { Distinct } from '../../../src/engine/operators/distinct.js';
import { Filter } from '../../../src/engine/operators/filter.js';
import { Limit } from '../../../src/engine/operators/limit.js';
import { MergeSort } from '../../../src/engine/operators/merge-sort.js';
import { Project } from '../../../src/engine/operators/project.js';
import { Route } from '../../../src/engine/operators/route.js';
import { computedColumn, type ExecContext, type ShardResult } from '../../../src/engine/types.js';
import { Oid } from '../../../src/engine/values/type-oids.js';

/** Shard answers given as data: each shard's rows as text. */
function shards(columns: [string, number][], perShard: (string | null)[][][]): ExecContext {
  return {
    async runOnShards(list: number[]): Promise<ShardResult[]> {
      return list.map((shard) => ({
        shard,
        columns: columns.map(([name, oid]) => computedColumn(name, oid)),
        rows: perShard[shard].map((r) => r.map((v) => (v === null ? null : Buffer.from(v)))),
        tag: `SELECT ${perShard[shard].length}`,
      }));
    },
  };
}

const text = (rows: (Buffer | null)[][]) => rows.map((r) => r.map((v) => (v === null ? null : v.toString())));

describe('operators', () => {
  it('merge-sorts shard rows, then offsets, limits and drops helper columns', async () => {
    const ctx = shards(
      [
        ['id', Oid.int4],
        ['k', Oid.int4],
      ],
      [
        [
          ['a', '1'],
          ['c', '5'],
          ['e', null],
        ],
        [
          ['b', '2'],
          ['d', '4'],
        ],
      ],
    );
    const plan = new Project(
      new Limit(new MergeSort(new Route([0, 1], 'q'), [{ index: -1, desc: false, nullsFirst: false }]), 3, 1),
      1,
    );
    const out = await plan.run(ctx);
    expect(out.columns.map((c) => c.name)).toEqual(['id']);
    expect(text(out.rows)).toEqual([['b'], ['d'], ['c']]);
  });

  it('removes duplicates across shards', async () => {
    const ctx = shards(
      [['x', Oid.text]],
      [
        [['a'], ['b']],
        [['b'], ['c']],
      ],
    );
    const out = await new Distinct(
      new MergeSort(new Route([0, 1], 'q'), [{ index: 0, desc: false, nullsFirst: false }]),
      0,
    ).run(ctx);
    expect(text(out.rows)).toEqual([['a'], ['b'], ['c']]);
  });

  it('merges partial aggregates per group with PostgreSQL result types', async () => {
    // Shard rows: group, count, sum(int4) as int8, avg as sum/count, min(text), bool_and.
    const ctx = shards(
      [
        ['g', Oid.text],
        ['c', Oid.int8],
        ['s', Oid.int8],
        ['as', Oid.int8],
        ['ac', Oid.int8],
        ['m', Oid.text],
        ['b', Oid.bool],
      ],
      [
        [
          ['x', '2', '3', '3', '2', 'q', 't'],
          ['y', '1', null, null, '0', null, null],
        ],
        [['x', '1', '4', '4', '1', 'p', 'f']],
      ],
    );
    const agg = new Aggregate(
      new Route([0, 1], 'q'),
      [0],
      [
        { kind: 'count', input: 1 },
        { kind: 'sum', input: 2 },
        { kind: 'avg', input: 3 },
        { kind: 'min', input: 5 },
        { kind: 'bool_and', input: 6 },
      ],
      [
        { group: 0, name: 'g' },
        { agg: 0, name: 'count' },
        { agg: 1, name: 'sum' },
        { agg: 2, name: 'avg' },
        { agg: 3, name: 'min' },
        { agg: 4, name: 'bool_and' },
      ],
    );
    const out = await agg.run(ctx);
    expect(out.columns.map((c) => [c.name, c.typeOid])).toEqual([
      ['g', Oid.text],
      ['count', Oid.int8],
      ['sum', Oid.int8],
      ['avg', Oid.numeric],
      ['min', Oid.text],
      ['bool_and', Oid.bool],
    ]);
    expect(text(out.rows)).toEqual([
      ['x', '3', '7', '2.3333333333333333', 'p', 'f'],
      ['y', '1', null, null, null, null],
    ]);
    const having = await new Filter(agg, {
      kind: 'compare',
      op: '>',
      left: { kind: 'column', index: 1 },
      right: { kind: 'constant', value: '2' },
    }).run(ctx);
    expect(text(having.rows).map((r) => r[0])).toEqual(['x']);
  });
});
