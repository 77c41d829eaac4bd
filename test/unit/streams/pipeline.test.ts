// The pipelined side of a change stream: batches overlap, yet a position is confirmed only once every batch up to
// it is done, changes are released as their batch completes, and a failure stops all confirming.
import { describe, expect, it } from 'vitest';
import { Pipeline } from '../../../src/streams/pipeline.js';
import type { StreamTransaction } from '../../../src/streams/row-changes.js';

const tx = (n: number): StreamTransaction => ({
  xid: n,
  commitLsn: `0/${n}`,
  commitTimeUs: 0n,
  changes: Array.from({ length: n }, () => ({
    op: 'insert' as const,
    table: 'public.t',
    key: null,
    new: null,
    oldKey: null,
  })),
});

/** A sink whose batches finish when the test says, and what the pipeline reported. */
function harness() {
  const calls: { batch: readonly StreamTransaction[]; finish: () => void; fail: (e: Error) => void }[] = [];
  const confirmed: bigint[] = [];
  const failures: string[] = [];
  let released = 0;
  const pipeline = new Pipeline(
    (batch) => new Promise<void>((resolve, reject) => calls.push({ batch, finish: resolve, fail: reject })),
    {
      confirm: (end) => confirmed.push(end),
      released: (n) => (released += n),
      failed: (error) => failures.push(error.message),
    },
  );
  const tick = () => new Promise((resolve) => setImmediate(resolve));
  return { pipeline, calls, confirmed, failures, tick, released: () => released };
}

describe('Pipeline', () => {
  it('sends the next batch before the previous is done and confirms in order only', async () => {
    const h = harness();
    h.pipeline.add(tx(2), 100n);
    h.pipeline.flush();
    h.pipeline.add(tx(3), 200n);
    h.pipeline.flush();
    expect(h.calls.map((c) => c.batch.length)).toEqual([1, 1]);
    h.calls[1]!.finish();
    await h.tick();
    // The later batch is done, the earlier is not: nothing may be confirmed yet.
    expect(h.confirmed).toEqual([]);
    expect(h.released()).toBe(3);
    h.calls[0]!.finish();
    await h.tick();
    expect(h.confirmed).toEqual([200n]);
    expect(h.released()).toBe(5);
    expect(h.pipeline.idle).toBe(true);
  });

  it('puts what arrives in one turn into one batch, and confirms a position without changes at once', async () => {
    const h = harness();
    h.pipeline.add(tx(1), 10n);
    h.pipeline.add(tx(1), 20n);
    await h.tick();
    expect(h.calls).toHaveLength(1);
    expect(h.calls[0]!.batch).toHaveLength(2);
    h.calls[0]!.finish();
    await h.tick();
    h.pipeline.add(null, 30n);
    await h.tick();
    expect(h.confirmed).toEqual([20n, 30n]);
  });

  it('confirms a large transaction only with its commit, though its parts are done', async () => {
    const h = harness();
    h.pipeline.add(tx(4), null);
    h.pipeline.flush();
    h.calls[0]!.finish();
    await h.tick();
    expect(h.confirmed).toEqual([]);
    expect(h.released()).toBe(4);
    h.pipeline.add(tx(1), 500n);
    h.pipeline.flush();
    h.calls[1]!.finish();
    await h.tick();
    expect(h.confirmed).toEqual([500n]);
  });

  it('reports a failed batch and confirms nothing after it, even when later batches finish', async () => {
    const h = harness();
    h.pipeline.add(tx(1), 10n);
    h.pipeline.flush();
    h.pipeline.add(tx(1), 20n);
    h.pipeline.flush();
    h.calls[0]!.fail(new Error('broker down'));
    await h.tick();
    expect(h.failures).toEqual(['broker down']);
    const stopped = h.pipeline.stop();
    h.calls[1]!.finish();
    await stopped;
    expect(h.confirmed).toEqual([]);
  });
});
