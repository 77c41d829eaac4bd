// Test-only helpers for the cache plugin: Statement objects built from real parses, as the host builds them,
// and a plugin context that records hooks, metrics and log lines instead of wiring them into a proxy.
import type { z } from 'zod';
import { createLogger } from '../../../../src/logger.js';
import type {
  BeforeStatementHook,
  CommitHook,
  CounterLike,
  PluginContext,
  PolyproxyPlugin,
  Statement,
} from '../../../../src/plugins/api.js';
import { leadingComments } from '../../../../src/router/proxy-directives.js';
import { statementObjects } from '../../../../src/router/statement-objects.js';
import { parseSql } from '../../../../src/sql/parser.js';

export interface StatementOptions {
  database?: string;
  user?: string;
  params?: (string | null)[];
  paramTypes?: number[];
  resultFormats?: number[];
  settings?: Record<string, string>;
  inTransaction?: boolean;
}

/**
 * A Statement for one SQL statement, with ast, tables, functions, volatile and hint filled from the real
 * parser as the host fills them. Callers must have awaited loadParser(). Test-only: the host builds its own.
 */
export function makeStatement(sql: string, opts: StatementOptions = {}): Statement {
  const parsed = parseSql(sql);
  if (!parsed.ok) throw new Error(`test statement does not parse: ${parsed.error}`);
  if (parsed.statements.length !== 1) throw new Error('a test statement must be exactly one statement');
  const objects = statementObjects(parsed.statements);
  return {
    sql,
    ast: parsed.statements[0],
    params: opts.params ?? [],
    paramTypes: opts.paramTypes ?? [],
    resultFormats: opts.resultFormats ?? [],
    hint: leadingComments(sql).directive,
    tables: objects.tables,
    functions: objects.functions,
    volatile: objects.volatile,
    session: {
      database: opts.database ?? 'app',
      user: opts.user ?? 'alice',
      inTransaction: opts.inTransaction ?? false,
      readOnly: false,
      settings: new Map(Object.entries(opts.settings ?? {})),
      enlist: () => {
        throw new Error('the cache plugin never enlists in a transaction');
      },
    },
  };
}

/** Counter values by name and labels, e.g. counters.get('hits_total{database=app}'). */
export class RecordedMetrics {
  readonly values = new Map<string, number>();

  counter(name: string): CounterLike {
    return {
      inc: (labels?: Record<string, string>, value = 1) => {
        const key = RecordedMetrics.key(name, labels);
        this.values.set(key, (this.values.get(key) ?? 0) + value);
      },
    };
  }

  /** The sum over every label set of a metric, or of those matching `labels`. */
  total(name: string, labels: Record<string, string> = {}): number {
    let sum = 0;
    for (const [key, value] of this.values) {
      if (!key.startsWith(`${name}{`)) continue;
      if (Object.entries(labels).every(([k, v]) => key.includes(`${k}=${v}`))) sum += value;
    }
    return sum;
  }

  private static key(name: string, labels: Record<string, string> = {}): string {
    const text = Object.entries(labels)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    return `${name}{${text}}`;
  }
}

export interface PluginHarness {
  before: BeforeStatementHook;
  commit: CommitHook;
  metrics: RecordedMetrics;
  logLines: string[];
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Validates `rawConfig` with the plugin's schema and registers the plugin against a recording context. */
export async function registerPlugin<C>(
  plugin: PolyproxyPlugin<C>,
  rawConfig: unknown,
): Promise<PluginHarness> {
  const config = (plugin.configSchema as z.ZodType<C> | undefined)?.parse(rawConfig) ?? (rawConfig as C);
  const metrics = new RecordedMetrics();
  const logLines: string[] = [];
  const before: BeforeStatementHook[] = [];
  const commits: CommitHook[] = [];
  const starts: (() => void | Promise<void>)[] = [];
  const stops: (() => void | Promise<void>)[] = [];
  const unused = () => {
    throw new Error('not used by the cache plugin');
  };
  const ctx: PluginContext<C> = {
    config,
    log: createLogger({ level: 'debug', format: 'json', write: (line) => logLines.push(line) }),
    metrics: { counter: (name) => metrics.counter(name), gauge: unused, histogram: unused },
    proxyVersion: '0.1.0',
    claim: unused,
    beforeStatement: (hook) => before.push(hook),
    onCommit: (hook) => commits.push(hook),
    onStart: (hook) => starts.push(hook),
    onStop: (hook) => stops.push(hook),
  };
  await plugin.register(ctx);
  if (before.length !== 1 || commits.length !== 1)
    throw new Error('expected one statement and one commit hook');
  return {
    before: before[0],
    commit: commits[0],
    metrics,
    logLines,
    start: async () => {
      for (const hook of starts) await hook();
    },
    stop: async () => {
      for (const hook of stops) await hook();
    },
  };
}
