// The plugin workloads (opt-in: `--workloads mysql-point,cassandra-point,memory-point`), run after the pgbench cells, printed and stored.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchEnv } from '../bench-env.js';
import { cassandraPoint } from './cassandra-point.js';
import { memoryPoint } from './memory-point.js';
import { mysqlPoint } from './mysql-point.js';
import { runPluginWorkload, type PluginRun } from './plugin-bench.js';
import { formatPluginTable, summarizePluginRuns } from './plugin-table.js';
import type { PluginWorkload } from './plugin-workload.js';

export const pluginWorkloads: readonly PluginWorkload[] = [mysqlPoint, cassandraPoint, memoryPoint];

export const isPluginWorkload = (name: string): boolean => pluginWorkloads.some((w) => w.name === name);

const resultsDir = fileURLToPath(new URL('../../../bench/results/', import.meta.url));

/** Runs the selected plugin workloads one after another; prints their table and writes bench/results/<time>-plugins.json. */
export async function runPluginWorkloads(
  env: BenchEnv,
  names: readonly string[],
  isInterrupted: () => boolean,
): Promise<void> {
  const selected = pluginWorkloads.filter((w) => names.includes(w.name));
  const startedAt = new Date().toISOString();
  const runs: PluginRun[] = [];
  for (const workload of selected) {
    if (isInterrupted()) break;
    runs.push(...(await runPluginWorkload(env, workload, isInterrupted)));
  }
  if (runs.length === 0) return;
  const summary = summarizePluginRuns(selected, runs);
  const table = formatPluginTable(summary);
  await mkdir(resultsDir, { recursive: true });
  const file = join(resultsDir, `${startedAt.replace(/[:.]/g, '-')}-plugins.json`);
  const { options } = env;
  await writeFile(file, JSON.stringify({ startedAt, options, runs, summary, table }, null, 2) + '\n');
  const heading = `polyproxy plugin bench ${startedAt.slice(0, 16).replace('T', ' ')} UTC: 1 client, ${options.durationS} s runs, median of ${options.rounds} rounds`;
  process.stdout.write(`\n${heading}\n\n${table}\n\nresults: ${file}\n`);
}
