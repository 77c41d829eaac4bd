// Test-only: registers the graph plugin as the host would and hands back its statement handler and stop hooks.
import type { Claim, PluginContext, PluginMetrics, StatementHandler } from '../../../../src/plugins/api.js';
import graphPlugin from '../../../../src/plugins/builtin/graph-neo4j/index.js';
import { silentLogger } from '../../../../src/logger.js';

export interface GraphHarness {
  claim: Claim;
  handler: StatementHandler;
  stop(): Promise<void>;
}

const noMetrics: PluginMetrics = {
  counter: () => ({ inc: () => undefined }),
  gauge: () => ({ set: () => undefined }),
  histogram: () => ({ observe: () => undefined }),
};

/** Validates `options` with the plugin's own schema, as the registry does for `plugins.graph`. */
export async function registerGraph(options: Record<string, unknown>): Promise<GraphHarness> {
  const config = graphPlugin.configSchema!.parse(options);
  let claimed: { claim: Claim; handler: StatementHandler } | undefined;
  const stops: (() => void | Promise<void>)[] = [];
  const ctx: PluginContext<typeof config> = {
    config,
    log: silentLogger,
    metrics: noMetrics,
    proxyVersion: '0.1.0',
    claim: (claim, handler) => (claimed = { claim, handler }),
    beforeStatement: () => undefined,
    onCommit: () => undefined,
    onStart: () => undefined,
    onStop: (hook) => stops.push(hook),
  };
  await graphPlugin.register(ctx);
  if (!claimed) throw new Error('the graph plugin claimed nothing');
  return {
    ...claimed,
    stop: async () => {
      for (const stop of stops) await stop();
    },
  };
}
