// Benchmark settings from command-line flags and BENCH_* environment variables (flags win).
export const queryModes = ['simple', 'extended', 'prepared'] as const;
export type QueryMode = (typeof queryModes)[number];

export interface BenchOptions {
  /** Seconds per measured pgbench run. */
  durationS: number;
  /** How many times the whole rotation over cells and targets is repeated. */
  rounds: number;
  clients: number[];
  modes: QueryMode[];
  workloads: string[];
  targets: string[];
  /** Server connections per pooler; PgBouncer and polyproxy always get the same. */
  poolSize: number;
  /** pgbench -j. */
  threads: number;
  /** pgbench -i -s. */
  scale: number;
  /**
   * Bound in seconds on the unmeasured warm-up per target before the first round (every client's connection
   * open and a first transaction answered); 0 skips it.
   */
  warmupS: number;
  /**
   * Seconds of unmeasured load per target and query mode before the first round, so the JIT has compiled each
   * mode's path before it is measured (short runs otherwise count the compilation); 0 skips it.
   */
  modeWarmupS: number;
  quick: boolean;
}

/** The targets a run compares unless told otherwise; reference targets are opt-in. */
export const defaultTargets = ['direct', 'pgbouncer', 'polyproxy', 'polyproxy-2w'];

/** What the help text says of a target; a registered target missing here is still listed, by name. */
const targetHelp: Record<string, string> = {
  direct: 'PostgreSQL itself',
  pgbouncer: 'PgBouncer',
  polyproxy: 'polyproxy on Node, workers: 1',
  'polyproxy-2w': 'polyproxy on Node, workers: 2',
  'polyproxy-bun': 'polyproxy on Bun (its own sockets), workers: 1',
  'polyproxy-bun-2w': 'polyproxy on Bun, workers: 2',
  'node-pipe': 'a bare 1:1 relay in Node',
  'bun-pipe': 'a bare 1:1 relay on Bun',
  'c-pipe': 'a bare 1:1 relay in C (epoll)',
  baseline: 'the build at BENCH_BASELINE (e.g. the code before a change)',
};

export interface RegisteredNames {
  workloads: readonly string[];
  /** Workloads accepted by name but run only when asked for (they start servers of their own). */
  optInWorkloads: readonly string[];
  targets: readonly string[];
}

/** Wraps names into lines of at most `width` characters, each starting with `indent`. */
function wrap(names: readonly string[], indent: string, width = 100): string {
  const lines: string[] = [];
  let line = '';
  for (const name of names) {
    const next = line ? `${line}, ${name}` : name;
    if (indent.length + next.length > width && line) {
      lines.push(`${line},`);
      line = name;
    } else line = next;
  }
  if (line) lines.push(line);
  return lines.map((l) => indent + l).join('\n');
}

/** The --help text, listing the workloads and targets this build registers. */
export function usage(names: RegisteredNames): string {
  const pad = ' '.repeat(21);
  const targets = names.targets
    .map(
      (t) => `${pad}  ${t.padEnd(17)}${defaultTargets.includes(t) ? '(default) ' : ''}${targetHelp[t] ?? ''}`,
    )
    .join('\n');
  return `usage: npm run bench -- [flags]     (or node dist/bench/run.js [flags])

  --duration S       seconds per run                       BENCH_DURATION   (10)
  --rounds N         rotations over all cells and targets  BENCH_ROUNDS     (3)
  --clients A,B      pgbench -c values                     BENCH_CLIENTS    (16,64)
  --modes LIST       simple,extended,prepared              BENCH_MODES      (all)
  --workloads LIST   pgbench workloads, all by default:    BENCH_WORKLOADS
${wrap(names.workloads, `${pad}  `)}
                     opt-in, the store's own driver vs polyproxy, run after the pgbench cells:
${wrap(names.optInWorkloads, `${pad}  `)}
  --targets LIST     default: ${defaultTargets.filter((t) => names.targets.includes(t)).join(',')}   BENCH_TARGETS
${targets}
  --pool-size N      server connections per pooler         BENCH_POOL_SIZE  (16)
  --threads N        pgbench -j                            BENCH_THREADS    (2)
  --scale N          pgbench -i -s                         BENCH_SCALE      (10)
  --warmup S         unmeasured warm-up per target: ends once every client answered a first
                     transaction, or after S seconds       BENCH_WARMUP     (30; 0 = none)
  --mode-warmup S    unmeasured S seconds per target and mode before the first round, so each
                     mode's code is compiled before it is measured  BENCH_MODE_WARMUP (2; 0 = none)
  --quick            smoke test: 2 s runs, 1 round, 16 clients, 10 s warm-up bound   BENCH_QUICK=1
  --help`;
}

const flagEnv: Record<string, string> = {
  duration: 'BENCH_DURATION',
  rounds: 'BENCH_ROUNDS',
  clients: 'BENCH_CLIENTS',
  modes: 'BENCH_MODES',
  workloads: 'BENCH_WORKLOADS',
  targets: 'BENCH_TARGETS',
  'pool-size': 'BENCH_POOL_SIZE',
  threads: 'BENCH_THREADS',
  scale: 'BENCH_SCALE',
  warmup: 'BENCH_WARMUP',
  'mode-warmup': 'BENCH_MODE_WARMUP',
};

export class UsageError extends Error {}

/** Flags as `--name value` or `--name=value`; `--quick` and `--help` take no value. */
function readFlags(argv: string[]): Map<string, string> {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument "${arg}"`);
    const [name, inline] = arg.slice(2).split(/=(.*)/s, 2);
    if (name === 'quick' || name === 'help') {
      flags.set(name, inline ?? '1');
      continue;
    }
    if (!(name in flagEnv)) throw new UsageError(`unknown flag --${name}`);
    const value = inline ?? argv[++i];
    if (value === undefined) throw new UsageError(`--${name} needs a value`);
    flags.set(name, value);
  }
  return flags;
}

function positive(name: string, raw: string, allowZero = false): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < (allowZero ? 0 : 1))
    throw new UsageError(
      `--${name}: expected a ${allowZero ? 'non-negative' : 'positive'} integer, got "${raw}"`,
    );
  return n;
}

function list(raw: string): string[] {
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

function oneOf<T extends string>(name: string, raw: string, allowed: readonly T[]): T[] {
  const values = list(raw);
  for (const v of values)
    if (!allowed.includes(v as T))
      throw new UsageError(`--${name}: "${v}" is not one of ${allowed.join(', ')}`);
  if (values.length === 0) throw new UsageError(`--${name}: empty list`);
  return values as T[];
}

/**
 * Parses argv and env; `workloadNames` and `targetNames` are the registered ones, so new ones need no change here.
 * `optInWorkloads` are accepted by name but not run by default (they start servers of their own).
 */
export function parseOptions(
  argv: string[],
  env: NodeJS.ProcessEnv,
  workloadNames: readonly string[],
  targetNames: readonly string[],
  optInWorkloads: readonly string[] = [],
): BenchOptions | 'help' {
  const flags = readFlags(argv);
  if (flags.has('help')) return 'help';
  const get = (name: string): string | undefined => flags.get(name) ?? env[flagEnv[name]];
  const quick = flags.has('quick') || env.BENCH_QUICK === '1';
  const value = (name: string, normal: string, quickValue = normal) =>
    get(name) ?? (quick ? quickValue : normal);
  return {
    quick,
    durationS: positive('duration', value('duration', '10', '2')),
    rounds: positive('rounds', value('rounds', '3', '1')),
    clients: list(value('clients', '16,64', '16')).map((c) => positive('clients', c)),
    modes: oneOf('modes', value('modes', queryModes.join(',')), queryModes),
    workloads: oneOf('workloads', value('workloads', workloadNames.join(',')), [
      ...workloadNames,
      ...optInWorkloads,
    ]),
    targets: oneOf(
      'targets',
      value('targets', defaultTargets.filter((t) => targetNames.includes(t)).join(',')),
      targetNames,
    ),
    poolSize: positive('pool-size', value('pool-size', '16')),
    threads: positive('threads', value('threads', '2')),
    scale: positive('scale', value('scale', '10')),
    warmupS: positive('warmup', value('warmup', '30', '10'), true),
    modeWarmupS: positive('mode-warmup', value('mode-warmup', '2', '0'), true),
  };
}
