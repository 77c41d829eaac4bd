// Pool sizes are totals over the workers: each worker's share, and what `workers: auto` means.
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { shareOf, workerConfig, workerCount } from '../../../src/workers/worker-plan.js';

const yaml = (workers: string) => `
listen: 127.0.0.1:6432
admin: 127.0.0.1:9930
${workers}
users: [{ name: app, password: pw }]
databases:
  app:
    backend: { user: postgres, database: app }
    pool: { mode: transaction, size: 10, min_idle: 4 }
    shards: [{ primary: 127.0.0.1:5432 }]
`;

describe('worker plan', () => {
  it('divides a total among the workers, the first ones taking the remainder, never below 1', () => {
    expect([0, 1, 2].map((id) => shareOf(10, 3, id))).toEqual([4, 3, 3]);
    expect([0, 1].map((id) => shareOf(10, 2, id))).toEqual([5, 5]);
    expect([0, 1, 2].map((id) => shareOf(2, 3, id))).toEqual([1, 1, 1]);
  });

  it('gives each worker its share of every pool and leaves the admin address to the primary', () => {
    const config = parseConfig(yaml('workers: 3'), {}, 'test.yaml');
    expect(workerCount(config)).toBe(3);
    const pools = [0, 1, 2].map((id) => workerConfig(config, 3, id).databases.app.pool);
    expect(pools.map((p) => [p.size, p.min_idle])).toEqual([
      [4, 4],
      [3, 3],
      [3, 3],
    ]);
    expect(workerConfig(config, 3, 0).admin).toBeUndefined();
    expect(config.databases.app.pool.size).toBe(10);
  });

  it('runs one worker per core by default, and refuses 0 workers', () => {
    expect(workerCount(parseConfig(yaml(''), {}, 'test.yaml'))).toBe(os.availableParallelism());
    expect(() => parseConfig(yaml('workers: 0'), {}, 'test.yaml')).toThrow(/workers/);
  });
});
