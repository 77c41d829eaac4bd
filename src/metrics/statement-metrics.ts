// Statement-level events the client session reports as they happen: counts, latency and errors by kind and route.
import client from 'prom-client';
import { createDeadlockCounter, type DeadlockBroken } from './deadlock-metrics.js';
import { FastHistogram, type HistogramChild } from './fast-histogram.js';

/** What a statement does, in a handful of values so the label stays low-cardinality. */
export type StatementKind = 'read' | 'write' | 'ddl' | 'transaction' | 'utility';
/** Where a statement ran: one server of a shard, one shard chosen by key, all shards, a plugin, or the proxy itself. */
export type StatementRoute =
  'primary' | 'replica' | 'single-shard' | 'scatter' | 'coordinator' | 'plugin' | 'proxy';

export interface StatementDone {
  database: string;
  kind: StatementKind;
  route: StatementRoute;
  /** From the statement's arrival to its CommandComplete (or last row) reaching the client. */
  seconds: number;
}

export interface StatementFailed {
  database: string;
  /** The first two characters of the SQLSTATE (a whole SQLSTATE is cut to its class). */
  sqlstateClass: string;
}

export interface PluginCall {
  plugin: string;
  /** The hook or handler method: claim, beforeStatement, onCommit, describe, execute. */
  hook: string;
  seconds: number;
  failed: boolean;
}

/** Called by the session and the plugin host; cheap enough for every statement (no allocation per call). */
export interface StatementMetrics {
  statementDone(event: StatementDone): void;
  statementError(event: StatementFailed): void;
  pluginCall(event: PluginCall): void;
  /** A cross-shard deadlock was broken by rolling a transaction back. */
  deadlockBroken(event: DeadlockBroken): void;
}

const kinds: ReadonlySet<string> = new Set<StatementKind>(['read', 'write', 'ddl', 'transaction', 'utility']);
const routes: ReadonlySet<string> = new Set<StatementRoute>([
  'primary',
  'replica',
  'single-shard',
  'scatter',
  'coordinator',
  'plugin',
  'proxy',
]);

/** Latency buckets from a cached point read (sub-millisecond) to a long scatter-gather report. */
export const statementBuckets = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
];

/** Labels come from fixed sets, so a caller's typo cannot explode the number of series. */
function oneOf(value: string, allowed: ReadonlySet<string>): string {
  return allowed.has(value) ? value : 'other';
}

function sqlstateClassOf(value: string): string {
  const cls = value.slice(0, 2).toUpperCase();
  return /^[0-9A-Z]{2}$/.test(cls) ? cls : 'other';
}

export function createStatementMetrics(registry: client.Registry): StatementMetrics {
  const duration = new FastHistogram(
    'polyproxy_statement_duration_seconds',
    'Statement latency seen by the proxy, by database, kind and route (its _count counts statements)',
    statementBuckets,
    registry,
  );
  const errors = new client.Counter({
    name: 'polyproxy_statement_errors_total',
    help: 'Errors sent to clients, by database and SQLSTATE class (e.g. 23: integrity, 40: rollback, 57: operator)',
    labelNames: ['database', 'sqlstate_class'],
    registers: [registry],
  });
  const pluginCalls = new FastHistogram(
    'polyproxy_plugin_call_duration_seconds',
    'Time spent in plugin hooks and handlers, by plugin and hook',
    statementBuckets,
    registry,
  );
  const callChildren = new Map<string, Map<string, HistogramChild>>();
  const callsOf = (plugin: string, hook: string) => {
    let byHook = callChildren.get(plugin);
    if (!byHook) callChildren.set(plugin, (byHook = new Map()));
    let child = byHook.get(hook);
    if (!child) byHook.set(hook, (child = pluginCalls.child({ plugin, hook })));
    return child;
  };
  const pluginErrors = new client.Counter({
    name: 'polyproxy_plugin_call_errors_total',
    help: 'Plugin hooks and handlers that threw, by plugin and hook',
    labelNames: ['plugin', 'hook'],
    registers: [registry],
  });
  const deadlockBroken = createDeadlockCounter(registry);
  // One child per (database, kind, route), found through nested maps: no label object or hash per statement.
  const children = new Map<string, Map<string, Map<string, HistogramChild>>>();
  const durationFor = (database: string, kind: string, route: string) => {
    let byKind = children.get(database);
    if (!byKind) children.set(database, (byKind = new Map()));
    let byRoute = byKind.get(kind);
    if (!byRoute) byKind.set(kind, (byRoute = new Map()));
    let child = byRoute.get(route);
    if (!child)
      byRoute.set(
        route,
        (child = duration.child({ database, kind: oneOf(kind, kinds), route: oneOf(route, routes) })),
      );
    return child;
  };
  return {
    statementDone(e) {
      durationFor(e.database, e.kind, e.route).observe(e.seconds);
    },
    statementError(e) {
      errors.inc({ database: e.database, sqlstate_class: sqlstateClassOf(e.sqlstateClass) });
    },
    pluginCall(e) {
      callsOf(e.plugin, e.hook).observe(e.seconds);
      if (e.failed) pluginErrors.inc({ plugin: e.plugin, hook: e.hook });
    },
    deadlockBroken,
  };
}
