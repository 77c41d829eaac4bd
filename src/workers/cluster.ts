// `workers: N` above 1: this process is either the primary (it forks the workers) or one of the workers.
import cluster from 'node:cluster';
import type { Config } from '../config/schema.js';
import type { Logger } from '../logger.js';
import { runPrimary } from './primary.js';
import { runWorker } from './worker.js';

export function runClustered(path: string, config: Config, workers: number, log: Logger): Promise<void> {
  return cluster.isPrimary ? runPrimary(path, config, workers, log) : runWorker(path, workers);
}
