// `npm run bench`: pgbench directly, through PgBouncer and through polyproxy, interleaved, as a table of medians.
import { onExit, stopAll } from '../sandbox/cleanup.js';
import type { BenchEnv } from './bench-env.js';
import { startEnvironment } from './environment.js';
import { machineInfo } from './machine.js';
import { parseOptions, usage, UsageError, type BenchOptions } from './options.js';
import { runPgbench } from './pgbench.js';
import { isPluginWorkload, pluginWorkloads, runPluginWorkloads } from './plugins/index.js';
import { BenchReport } from './report.js';
import { cellsOf, schedule, type ScheduledRun } from './schedule.js';
import { steadyCpuMeter } from './steady-cpu.js';
import type { RunRecord } from './summary.js';
import { targets, type RunningTarget } from './targets/index.js';
import type { Cell } from './targets/target.js';
import { workloads } from './workloads.js';

const progress = (line: string) => process.stderr.write(`${line}\n`);

let interrupted = false;
let current: BenchReport | undefined;
// Runs before cleanup.ts's handler (registered later), while the targets still run.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
  process.once(signal, () => {
    interrupted = true;
    current?.takeTargetNotes();
  });

async function startTargets(env: BenchEnv): Promise<Map<string, RunningTarget>> {
  const running = new Map<string, RunningTarget>();
  for (const target of targets.filter((t) => env.options.targets.includes(t.name))) {
    progress(`starting target ${target.name}`);
    running.set(target.name, await target.start(env));
  }
  return running;
}

/**
 * Unmeasured load before the first measured run, so that every client's connection (and the pools behind it) is
 * open: it ends once every client has answered a first transaction, or after options.warmupS seconds. A fixed
 * few seconds of load completed no transaction at 64 clients on a loaded machine (the logins took longer).
 */
async function warmUp(env: BenchEnv, running: Map<string, RunningTarget>, notes: string[]): Promise<void> {
  const { options } = env;
  if (options.warmupS === 0) return;
  const cell = { workload: workloads[0], mode: 'simple' as const, clients: Math.max(...options.clients) };
  for (const [name, target] of running) {
    if (interrupted) return;
    const { endpoint } = await target.connectionFor(cell);
    const report = await runPgbench(endpoint, {
      workloadArgs: ['-S'],
      mode: 'simple',
      clients: cell.clients,
      threads: options.threads,
      durationS: options.warmupS,
      transactionsPerClient: 1,
    });
    const answered = `${report.transactions} transactions of ${cell.clients} clients`;
    progress(`warm-up ${name}: ${report.ok ? answered : report.error}`);
    if (!report.ok) notes.push(`warm-up through ${name} failed: ${report.error}`);
  }
  await warmUpModes(env, running, notes);
}

/**
 * A fixed few seconds of each measured workload and query mode per target, with the most clients: the proxy's
 * extended and prepared paths (and a sharded workload's) are other code than the simple one, and in 5 s runs
 * their compilation was a visible share of the first round.
 */
async function warmUpModes(
  env: BenchEnv,
  running: Map<string, RunningTarget>,
  notes: string[],
): Promise<void> {
  const { options } = env;
  if (options.modeWarmupS === 0) return;
  const widest = new Map<string, Cell>();
  for (const cell of cellsOf(options)) {
    const key = `${cell.workload.name} ${cell.mode}`;
    if ((widest.get(key)?.clients ?? 0) < cell.clients) widest.set(key, cell);
  }
  for (const [name, target] of running) {
    for (const cell of widest.values()) {
      if (interrupted) return;
      const { endpoint } = await target.connectionFor(cell);
      const report = await runPgbench(endpoint, {
        workloadArgs: cell.workload.pgbenchArgs(env),
        mode: cell.mode,
        clients: cell.clients,
        threads: options.threads,
        durationS: options.modeWarmupS,
      });
      if (!report.ok)
        notes.push(`warm-up of ${cell.workload.name} ${cell.mode} through ${name} failed: ${report.error}`);
    }
  }
  progress(`warm-up: ${options.modeWarmupS} s per target, workload and mode`);
}

function describe(run: ScheduledRun, options: BenchOptions): string {
  const { workload, mode, clients } = run.cell;
  return `round ${run.round + 1}/${options.rounds}  ${workload.name} ${mode} c=${clients}  ${run.target}`;
}

async function measure(
  env: BenchEnv,
  running: Map<string, RunningTarget>,
  records: RunRecord[],
): Promise<void> {
  const { options } = env;
  const runs = schedule(cellsOf(options), [...running.keys()], options.rounds);
  const started = Date.now();
  for (const [i, run] of runs.entries()) {
    if (interrupted) return;
    const { workload, mode, clients } = run.cell;
    const target = running.get(run.target)!;
    const connection = await target.connectionFor(run.cell);
    await workload.beforeRun?.(env);
    const startedAt = new Date().toISOString();
    const cpu = steadyCpuMeter(target.pids?.(run.cell) ?? []);
    const report = await runPgbench(connection.endpoint, {
      workloadArgs: workload.pgbenchArgs(env),
      mode,
      clients,
      threads: options.threads,
      durationS: options.durationS,
    });
    const cpuUsPerTx = cpu.read(report);
    // A run cut short by Ctrl-C says nothing about the target.
    if (interrupted) return;
    records.push({
      round: run.round,
      workload: workload.name,
      mode,
      clients,
      target: run.target,
      variant: connection.variant,
      pairOf: run.pairOf,
      startedAt,
      report,
      cpuUsPerTx: report.ok ? cpuUsPerTx : null,
    });
    const perRun = (Date.now() - started) / (i + 1);
    const eta = Math.round((perRun * (runs.length - i - 1)) / 60_000);
    const cpuUs = records.at(-1)!.cpuUsPerTx;
    const cpuText = cpuUs == null ? '' : `, ${cpuUs.toFixed(1)} µs CPU/tx`;
    const result = report.ok
      ? `${Math.round(report.tps!)} tps, ${report.latencyMs} ms${cpuText}`
      : `FAILED: ${report.error}`;
    const variant = connection.variant ? ` (${connection.variant})` : '';
    const pair = run.pairOf ? ` (paired with ${run.pairOf})` : '';
    progress(
      `[${i + 1}/${runs.length}] ${describe(run, options)}${variant}${pair}: ${result}  (~${eta} min left)`,
    );
  }
}

async function main(): Promise<number> {
  let options: BenchOptions | 'help';
  const names = {
    workloads: workloads.map((w) => w.name),
    optInWorkloads: pluginWorkloads.map((w) => w.name),
    targets: targets.map((t) => t.name),
  };
  try {
    options = parseOptions(
      process.argv.slice(2),
      process.env,
      names.workloads,
      names.targets,
      names.optInWorkloads,
    );
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`${err.message}\n\n${usage(names)}\n`);
    return 2;
  }
  if (options === 'help') {
    process.stdout.write(`${usage(names)}\n`);
    return 0;
  }
  // Plugin workloads run after the pgbench cells, against servers of their own (see plugins/index.ts).
  const pluginNames = options.workloads.filter(isPluginWorkload);
  options = { ...options, workloads: options.workloads.filter((name) => !isPluginWorkload(name)) };
  const report = new BenchReport(options);
  current = report;
  // Registered first, so on Ctrl-C it runs last, after every server stopped: the runs so far are kept.
  const unregister = onExit({ stop: () => report.save(false), kill: () => {} });
  let finished = false;
  try {
    progress(`starting PostgreSQL and running pgbench -i -s ${options.scale}`);
    const env = await startEnvironment(options);
    report.machine = await machineInfo(env);
    if (options.workloads.length > 0) {
      report.running = await startTargets(env);
      await warmUp(env, report.running, report.notes);
      await measure(env, report.running, report.records);
    }
    await runPluginWorkloads(env, pluginNames, () => interrupted);
    finished = !interrupted;
  } finally {
    if (!interrupted) {
      report.takeTargetNotes();
      unregister();
      await stopAll();
      await report.save(finished);
    }
  }
  // On a signal, cleanup.ts stops the servers, then our save handler writes what ran, then it exits.
  if (interrupted) await new Promise<never>(() => {});
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(
      `bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  },
);
