// Writes bench/results/<timestamp>.json: options, machine, every raw run and the summary.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MachineInfo } from './machine.js';
import type { BenchOptions } from './options.js';
import type { CellSummary, RunRecord } from './summary.js';

/** bench/results/ in the project, found from dist/bench/ so the working directory does not matter. */
const resultsDir = fileURLToPath(new URL('../../bench/results/', import.meta.url));

export interface BenchResults {
  startedAt: string;
  finishedAt: string;
  /** False when the bench stopped early; the runs so far are still stored. */
  complete: boolean;
  options: BenchOptions;
  machine: MachineInfo | null;
  /** Compare with machine.loadAverage: other work on the machine during the run shows here. */
  loadAverageAtEnd: number;
  notes: string[];
  runs: RunRecord[];
  summary: CellSummary[];
  table: string;
}

export async function writeResults(results: BenchResults): Promise<string> {
  await mkdir(resultsDir, { recursive: true });
  const file = join(resultsDir, `${results.startedAt.replace(/[:.]/g, '-')}.json`);
  await writeFile(file, JSON.stringify(results, null, 2) + '\n');
  return file;
}
