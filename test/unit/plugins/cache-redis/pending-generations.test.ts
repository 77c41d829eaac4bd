// A database whose invalidation may have been lost is not served until a generation bump went through.
import { describe, expect, it } from 'vitest';
import { PendingGenerations } from '../../../../src/plugins/builtin/cache-redis/pending-generations.js';

function deferred() {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('pending generations', () => {
  it('settles at once when nothing is pending', async () => {
    const pending = new PendingGenerations();
    let bumps = 0;
    await pending.settle('app', async () => void bumps++);
    expect(bumps).toBe(0);
  });

  it('bumps once for concurrent callers and then forgets the database', async () => {
    const pending = new PendingGenerations();
    pending.add('app');
    let bumps = 0;
    const bump = async () => void bumps++;
    await Promise.all([
      pending.settle('app', bump),
      pending.settle('app', bump),
      pending.settle('app', bump),
    ]);
    expect(bumps).toBe(1);
    expect(pending.has('app')).toBe(false);
    await pending.settle('app', bump);
    expect(bumps).toBe(1);
  });

  it('keeps the mark when the bump fails', async () => {
    const pending = new PendingGenerations();
    pending.add('app');
    await expect(pending.settle('app', () => Promise.reject(new Error('down')))).rejects.toThrow('down');
    expect(pending.has('app')).toBe(true);
  });

  it('bumps again for a failure marked while a bump was running', async () => {
    const pending = new PendingGenerations();
    pending.add('app');
    const first = deferred();
    let bumps = 0;
    const settling = pending.settle('app', () => (++bumps === 1 ? first.promise : Promise.resolve()));
    pending.add('app');
    first.resolve();
    await settling;
    expect(bumps).toBe(2);
    expect(pending.has('app')).toBe(false);
  });

  it('keeps databases apart', async () => {
    const pending = new PendingGenerations();
    pending.add('a');
    pending.add('b');
    await pending.settle('a', async () => {});
    expect(pending.has('a')).toBe(false);
    expect(pending.has('b')).toBe(true);
  });
});
