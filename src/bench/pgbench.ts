// pgbench invocations against one endpoint and the numbers read from its report.
import { runCommand, type CommandResult } from './command.js';
import type { QueryMode } from './options.js';

/** Where and as whom a client connects: PostgreSQL itself or a pooler in front of it. */
export interface Endpoint {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
}

export interface PgbenchSpec {
  /** Workload flags such as `-S` or `-f script.sql`. */
  workloadArgs: string[];
  mode: QueryMode;
  clients: number;
  threads: number;
  /** Seconds of load (-T); with transactionsPerClient, the bound on the whole run instead. */
  durationS: number;
  /** pgbench -t: end once every client has run this many transactions (or durationS passed). */
  transactionsPerClient?: number;
}

export interface PgbenchReport {
  ok: boolean;
  tps: number | null;
  latencyMs: number | null;
  /** pgbench's initial connection time: tps counts the time after it only. */
  connectionMs?: number | null;
  transactions: number | null;
  failed: number | null;
  exitCode: number | null;
  timedOut: boolean;
  /** Why the run does not count, when it does not. */
  error?: string;
  args: string[];
  /** The tail of pgbench's output, kept in the results file for inspection. */
  output: string;
}

/** Connection start-up is not measured, but a stuck pooler must not stall the whole bench. */
const slackMs = 60_000;

function clientEnv(endpoint: Endpoint): NodeJS.ProcessEnv {
  // Same transport for every target: no TLS or GSS negotiation, one auth per connection.
  return { ...process.env, PGPASSWORD: endpoint.password, PGSSLMODE: 'disable', PGGSSENCMODE: 'disable' };
}

function connectionArgs(endpoint: Endpoint): string[] {
  return ['-h', endpoint.host, '-p', String(endpoint.port), '-U', endpoint.user];
}

const number = (text: string, pattern: RegExp): number | null => {
  const match = pattern.exec(text);
  return match ? Number(match[1]) : null;
};

export function parseReport(result: CommandResult, args: string[]): PgbenchReport {
  const text = `${result.stdout}\n${result.stderr}`;
  const tps = number(text, /^tps = ([\d.]+)/m);
  const failed = number(text, /^number of failed transactions: (\d+)/m);
  const aborted = /Run was aborted|client \d+ aborted/.test(text);
  let error: string | undefined;
  if (result.timedOut) error = 'timed out';
  else if (result.code !== 0) error = `exit ${result.code ?? 'by signal'}`;
  else if (aborted) error = 'clients aborted';
  else if (tps === null) error = 'no tps in report';
  else if (failed) error = `${failed} failed transactions`;
  if (error) {
    const firstError = /(?:error|FATAL)[^\n]*/i.exec(result.stderr);
    if (firstError) error += `: ${firstError[0].trim()}`;
  }
  return {
    ok: error === undefined,
    tps,
    latencyMs: number(text, /^latency average = ([\d.]+) ms/m),
    connectionMs: number(text, /^initial connection time = ([\d.]+) ms/m),
    transactions: number(text, /^number of transactions actually processed: (\d+)/m),
    failed,
    exitCode: result.code,
    timedOut: result.timedOut,
    error,
    args,
    output: text.trim().split('\n').slice(-30).join('\n'),
  };
}

/** One measured run; `-n` because workloads prepare their tables themselves, directly on PostgreSQL. */
export async function runPgbench(endpoint: Endpoint, spec: PgbenchSpec): Promise<PgbenchReport> {
  const args = [
    ...connectionArgs(endpoint),
    '-n',
    ...spec.workloadArgs,
    '-M',
    spec.mode,
    '-c',
    String(spec.clients),
    '-j',
    // pgbench prepares each client's statements with a blocking call; with several clients per thread a
    // transaction pool can deadlock (one client waits for a server another client of the thread holds).
    String(spec.mode === 'prepared' ? spec.clients : Math.min(spec.threads, spec.clients)),
    ...(spec.transactionsPerClient
      ? ['-t', String(spec.transactionsPerClient)]
      : ['-T', String(spec.durationS)]),
    endpoint.database,
  ];
  const result = await runCommand('pgbench', args, {
    env: clientEnv(endpoint),
    timeoutMs: spec.durationS * 1000 + (spec.transactionsPerClient ? 0 : slackMs),
  });
  return parseReport(result, args);
}

/** `pgbench -i -s scale`: creates and fills the pgbench tables; throws when it fails. */
export async function initPgbench(endpoint: Endpoint, scale: number): Promise<void> {
  const args = [...connectionArgs(endpoint), '-i', '-q', '-s', String(scale), endpoint.database];
  const result = await runCommand('pgbench', args, { env: clientEnv(endpoint), timeoutMs: 600_000 });
  if (result.code !== 0) throw new Error(`pgbench -i failed: ${result.stderr.trim().slice(-2000)}`);
}
