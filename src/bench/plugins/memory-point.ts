// Workload "memory-point": a primary-key read answered from a Map by a plugin in the proxy, against the same Map.get in the bench: the floor of a plugin call.
import { fileURLToPath } from 'node:url';
import { memoryRow, memoryRows } from './memory-plugin.js';
import type { PluginWorkload } from './plugin-workload.js';

const key = (i: number) => (i % memoryRows) + 1;

const pluginModule = fileURLToPath(new URL('./memory-plugin.js', import.meta.url));

export const memoryPoint: PluginWorkload = {
  name: 'memory-point',
  label: 'In-memory primary-key read (a Map in the bench vs a plugin Map through polyproxy)',
  rowsPerStatement: 1,
  async start() {
    const rows = new Map(Array.from({ length: memoryRows }, (_, i) => [i + 1, memoryRow(i + 1)]));
    return {
      plugins: { mem: { module: pluginModule } },
      direct: async (i) => (rows.get(key(i)) ? 1 : 0),
      sql: 'SELECT id, name, qty FROM mem.items WHERE id = $1',
      params: (i) => [key(i)],
      literalSql: (i) => `SELECT id, name, qty FROM mem.items WHERE id = ${key(i)}`,
      stop: async () => {},
    };
  },
};
