// The state of one bench run and its report, in one place so that Ctrl-C can still print and store what ran.
import { loadavg } from 'node:os';
import { machineLine, type MachineInfo } from './machine.js';
import type { BenchOptions } from './options.js';
import { writeResults } from './results.js';
import { cellsOf } from './schedule.js';
import { summarize, type RunRecord } from './summary.js';
import { formatShardingRatios, formatTable } from './table.js';
import type { RunningTarget } from './targets/index.js';

export class BenchReport {
  readonly startedAt = new Date().toISOString();
  readonly records: RunRecord[] = [];
  readonly notes: string[] = [];
  machine: MachineInfo | null = null;
  running = new Map<string, RunningTarget>();
  private notesTaken = false;
  private saved = false;

  constructor(readonly options: BenchOptions) {}

  /** Takes the targets' findings while they still run; once stopped, a stopped process is no finding. */
  takeTargetNotes(): void {
    if (this.notesTaken) return;
    this.notesTaken = true;
    for (const target of this.running.values()) this.notes.push(...target.notes());
  }

  heading(): string {
    const o = this.options;
    const runs = `${o.durationS} s runs, median of ${o.rounds} round${o.rounds > 1 ? 's' : ''}`;
    const setup = `pgbench scale ${o.scale}, -j ${o.threads}, ${runs}, pool size ${o.poolSize} (transaction mode)`;
    const when = `${this.startedAt.slice(0, 16).replace('T', ' ')} UTC`;
    return [`polyproxy bench ${when}: ${setup}`, ...(this.machine ? [machineLine(this.machine)] : [])].join(
      '\n',
    );
  }

  /** Prints the table and writes the results file once; nothing when no run finished. */
  async save(complete: boolean): Promise<void> {
    if (this.saved || this.records.length === 0) return;
    this.saved = true;
    const { options, records, notes } = this;
    const summary = summarize(cellsOf(options), options.targets, records);
    const shardingRatios = formatShardingRatios(summary);
    const table = formatTable(summary, options.targets) + (shardingRatios ? `\n\n${shardingRatios}` : '');
    const loadAverageAtEnd = loadavg()[0];
    const file = await writeResults({
      startedAt: this.startedAt,
      finishedAt: new Date().toISOString(),
      complete,
      options,
      machine: this.machine,
      loadAverageAtEnd,
      notes,
      runs: records,
      summary,
      table,
    });
    const load = `load average (1 min) ${this.machine?.loadAverage.toFixed(2) ?? '?'} at start, ${loadAverageAtEnd.toFixed(2)} at end`;
    const lines = [this.heading(), load, '', table, '', ...notes.map((n) => `note: ${n}`), ''];
    lines.push(`results: ${file}${complete ? '' : ' (incomplete)'}`);
    process.stdout.write(`\n${lines.join('\n')}\n`);
  }
}
