// Cycles of lock waits joined through clients' transactions: found when they span shards, not otherwise.
import { describe, expect, it } from 'vitest';
import {
  crossShardCycle,
  cycleOwners,
  describeCycle,
  type BackendNode,
} from '../../../src/backend/wait-graph.js';

/** A backend `server#pid` of transaction `owner` (or of nobody) on `shard`, waiting for `blockers`. */
function node(
  key: string,
  shard: number,
  owner: string | null,
  blockers: string[] = [],
): BackendNode<string> {
  return { key, shard, owner, blockers };
}

describe('crossShardCycle', () => {
  it('finds two transactions that wait for each other on different shards', () => {
    const nodes = [
      node('s0#1', 0, 'A'),
      node('s1#2', 1, 'A', ['s1#4']),
      node('s0#3', 0, 'B', ['s0#1']),
      node('s1#4', 1, 'B'),
    ];
    const cycle = crossShardCycle(nodes)!;
    expect(cycle).not.toBeNull();
    expect(cycle.map((s) => `${s.from.key}>${s.to.key}:${s.kind}`).sort()).toEqual([
      's0#1>s1#2:link',
      's0#3>s0#1:lock',
      's1#2>s1#4:lock',
      's1#4>s0#3:link',
    ]);
    expect(cycleOwners(cycle).sort()).toEqual(['A', 'B']);
    expect(describeCycle(cycle, 'B')).toBe(
      'this transaction waits on shard 0 for transaction 2; transaction 2 waits on shard 1 for this transaction',
    );
  });

  it('ignores a one-way wait and a cycle of lock waits on one server (PostgreSQL finds those)', () => {
    expect(
      crossShardCycle([node('s0#1', 0, 'A'), node('s1#2', 1, 'A', ['s1#4']), node('s1#4', 1, 'B')]),
    ).toBeNull();
    expect(crossShardCycle([node('s0#1', 0, 'A', ['s0#2']), node('s0#2', 0, 'B', ['s0#1'])])).toBeNull();
  });

  it('does not take two waiting backends of one transaction for a cycle', () => {
    const nodes = [
      node('s0#1', 0, 'A', ['s0#9']),
      node('s1#2', 1, 'A', ['s1#8']),
      node('s0#9', 0, null),
      node('s1#8', 1, null),
    ];
    expect(crossShardCycle(nodes)).toBeNull();
  });

  it('follows a cycle through three shards and through another session', () => {
    const nodes = [
      node('s0#1', 0, 'A'),
      node('s1#2', 1, 'A', ['s1#3']),
      node('s1#3', 1, 'B'),
      node('s2#4', 2, 'B', ['s2#7']),
      // A session of no transaction of ours, waiting on shard 2 for C.
      node('s2#7', 2, null, ['s2#5']),
      node('s2#5', 2, 'C'),
      node('s0#6', 0, 'C', ['s0#1']),
    ];
    const cycle = crossShardCycle(nodes)!;
    expect(cycle).not.toBeNull();
    expect(cycleOwners(cycle).sort()).toEqual(['A', 'B', 'C']);
    expect(describeCycle(cycle, 'C')).toBe(
      'this transaction waits on shard 0 for transaction 2; transaction 2 waits on shard 1 for transaction 3; ' +
        'transaction 3 waits on shard 2 for server process 7; server process 7 waits on shard 2 for this transaction',
    );
  });
});
