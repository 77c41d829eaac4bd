// The statement recorder: histograms and counters with fixed, low-cardinality label values.
import client from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createStatementMetrics, type StatementKind } from '../../../src/metrics/statement-metrics.js';

describe('statement metrics', () => {
  it('records latency by database, kind and route, and counts statements', async () => {
    const registry = new client.Registry();
    const m = createStatementMetrics(registry);
    m.statementDone({ database: 'app', kind: 'read', route: 'replica', seconds: 0.002 });
    m.statementDone({ database: 'app', kind: 'read', route: 'replica', seconds: 0.3 });
    const text = await registry.metrics();
    expect(text).toContain(
      'polyproxy_statement_duration_seconds_count{database="app",kind="read",route="replica"} 2',
    );
    expect(text).toContain(
      'polyproxy_statement_duration_seconds_bucket{le="0.0025",database="app",kind="read",route="replica"} 1',
    );
  });

  it('maps values outside the fixed sets to "other"', async () => {
    const registry = new client.Registry();
    const m = createStatementMetrics(registry);
    m.statementDone({
      database: 'app',
      kind: 'SELECT * FROM t' as StatementKind,
      route: 'scatter',
      seconds: 0.01,
    });
    const text = await registry.metrics();
    expect(text).toContain('kind="other",route="scatter"');
    expect(text).not.toContain('SELECT');
  });

  it('counts errors by SQLSTATE class, cutting a whole SQLSTATE to its class', async () => {
    const registry = new client.Registry();
    const m = createStatementMetrics(registry);
    m.statementError({ database: 'app', sqlstateClass: '23505' });
    m.statementError({ database: 'app', sqlstateClass: '23' });
    m.statementError({ database: 'app', sqlstateClass: '??' });
    const text = await registry.metrics();
    expect(text).toContain('polyproxy_statement_errors_total{database="app",sqlstate_class="23"} 2');
    expect(text).toContain('polyproxy_statement_errors_total{database="app",sqlstate_class="other"} 1');
  });

  it('times plugin calls and counts the failed ones', async () => {
    const registry = new client.Registry();
    const m = createStatementMetrics(registry);
    m.pluginCall({ plugin: 'cache', hook: 'beforeStatement', seconds: 0.001, failed: false });
    m.pluginCall({ plugin: 'cache', hook: 'beforeStatement', seconds: 0.2, failed: true });
    const text = await registry.metrics();
    expect(text).toContain(
      'polyproxy_plugin_call_duration_seconds_count{plugin="cache",hook="beforeStatement"} 2',
    );
    expect(text).toContain('polyproxy_plugin_call_errors_total{plugin="cache",hook="beforeStatement"} 1');
  });
});
