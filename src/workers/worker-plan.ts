// How many workers run, and the config each one runs: pool sizes are totals, divided among the workers.
import os from 'node:os';
import type { Config } from '../config/schema.js';

/** `workers: auto` is one worker per core the process may use. */
export function workerCount(config: Config): number {
  if (config.workers !== 'auto') return config.workers;
  return Math.max(1, os.availableParallelism());
}

/** Worker `id`'s share of a total: equal parts, the first ones taking the remainder, and never less than 1. */
export function shareOf(total: number, workers: number, id: number): number {
  const base = Math.floor(total / workers) + (id < total % workers ? 1 : 0);
  return Math.max(1, base);
}

/**
 * The config worker `id` of `workers` runs: each database's pool size (a total per server) divided among the
 * workers, and no admin HTTP address, which the primary process serves for all of them.
 */
export function workerConfig(config: Config, workers: number, id: number): Config {
  const databases = Object.fromEntries(
    Object.entries(config.databases).map(([name, db]) => {
      const size = shareOf(db.pool.size, workers, id);
      return [name, { ...db, pool: { ...db.pool, size, min_idle: Math.min(db.pool.min_idle, size) } }];
    }),
  );
  return { ...config, admin: undefined, databases };
}
