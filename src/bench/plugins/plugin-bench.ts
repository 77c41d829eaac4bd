// Plugin workloads: the store's own driver against polyproxy's SQL for the same statement, one client, interleaved rounds.
import { cpuMeter } from '../process-cpu.js';
import type { BenchEnv } from '../bench-env.js';
import type { QueryMode } from '../options.js';
import { baselineCli, startPluginProxy, type PluginProxy } from './plugin-proxy.js';
import { startRelaySide } from './plugin-relay.js';
import type { PluginStore, PluginWorkload } from './plugin-workload.js';

/** A run stops at this many statements even when its duration has not passed. */
const maxStatementsPerRun = 200_000;
const warmUpStatements = 500;

/**
 * The driver alone, the driver through a bare relay (`relay`), or polyproxy in a query mode; `baseline …` is the
 * BENCH_BASELINE build in that mode.
 */
type Side = 'driver' | 'relay' | QueryMode | `baseline ${QueryMode}`;

export interface PluginRun {
  workload: string;
  side: Side;
  round: number;
  statements: number;
  /** Mean wall time per statement (µs), one client waiting for each answer. */
  wallUs: number;
  /** CPU of the bench process per statement (µs): the client and, on the driver side, the store's driver. */
  clientCpuUs: number;
  /** CPU of the proxy process (the relay's on side relay) per statement (µs); null on the driver side. */
  proxyCpuUs: number | null;
}

const progress = (line: string) => process.stderr.write(`${line}\n`);

/** The statement of a proxy in query mode `mode` for key number `i`, resolving to its row count. */
function statement(mode: QueryMode, store: PluginStore, proxy: PluginProxy): (i: number) => Promise<number> {
  const { client } = proxy;
  switch (mode) {
    case 'prepared':
      return async (i) =>
        (await client.query({ name: 'bench_point', text: store.sql, values: store.params(i) })).rowCount ?? 0;
    case 'extended':
      return async (i) => (await client.query(store.sql, store.params(i))).rowCount ?? 0;
    case 'simple':
      return async (i) => (await client.query(store.literalSql(i))).rowCount ?? 0;
  }
}

/** One measured run: statements back to back for `durationS` (or up to the cap), checking each row count. */
async function measureRun(
  run: (i: number) => Promise<number>,
  expectedRows: number,
  durationS: number,
  proxyPid: number | null,
): Promise<Omit<PluginRun, 'workload' | 'side' | 'round'>> {
  const proxyCpu = cpuMeter(proxyPid === null ? [] : [proxyPid]);
  const clientCpu = process.cpuUsage();
  const started = performance.now();
  const deadline = started + durationS * 1000;
  let statements = 0;
  while (statements < maxStatementsPerRun && performance.now() < deadline) {
    const rows = await run(statements);
    if (rows !== expectedRows)
      throw new Error(`statement ${statements} returned ${rows} rows, expected ${expectedRows}`);
    statements++;
  }
  const wallUs = ((performance.now() - started) * 1000) / statements;
  const used = process.cpuUsage(clientCpu);
  return {
    statements,
    wallUs,
    clientCpuUs: (used.user + used.system) / statements,
    proxyCpuUs: proxyPid === null ? null : proxyCpu(statements),
  };
}

/** Runs one workload: the store, a proxy of its own, a warm-up, then rounds alternating the order of the sides. */
export async function runPluginWorkload(
  env: BenchEnv,
  workload: PluginWorkload,
  isInterrupted: () => boolean,
): Promise<PluginRun[]> {
  const { options } = env;
  progress(`starting the store of ${workload.name}`);
  const store = await workload.start(env.baseDir);
  const runs: PluginRun[] = [];
  try {
    const proxy = await startPluginProxy(env, workload.name, store.plugins);
    const base = baselineCli();
    const baseline = base && (await startPluginProxy(env, `${workload.name}-baseline`, store.plugins, base));
    const relay = await startRelaySide(store);
    try {
      const run = new Map<Side, { statement: (i: number) => Promise<number>; pid: number | null }>([
        ['driver', { statement: store.direct, pid: null }],
      ]);
      if (relay) run.set('relay', relay);
      for (const mode of options.modes) {
        run.set(mode, { statement: statement(mode, store, proxy), pid: proxy.child.pid });
        if (baseline)
          run.set(`baseline ${mode}`, {
            statement: statement(mode, store, baseline),
            pid: baseline.child.pid,
          });
      }
      const sides = [...run.keys()];
      for (const side of sides) for (let i = 0; i < warmUpStatements; i++) await run.get(side)!.statement(i);
      for (let round = 0; round < options.rounds && !isInterrupted(); round++) {
        const order = round % 2 === 0 ? sides : [...sides].reverse();
        for (const side of order) {
          if (isInterrupted()) break;
          const { statement, pid } = run.get(side)!;
          const result = await measureRun(statement, workload.rowsPerStatement, options.durationS, pid);
          runs.push({ workload: workload.name, side, round, ...result });
          const cpu = result.proxyCpuUs === null ? '' : `, proxy CPU ${result.proxyCpuUs.toFixed(0)} µs`;
          progress(
            `round ${round + 1}/${options.rounds}  ${workload.name} ${side}: ${result.wallUs.toFixed(0)} µs/statement${cpu}`,
          );
        }
      }
    } finally {
      await Promise.all([proxy.stop(), baseline && baseline.stop(), relay?.stop()]);
    }
  } finally {
    await store.stop();
  }
  return runs;
}
