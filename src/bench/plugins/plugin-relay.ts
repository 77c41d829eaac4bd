// Side "relay" of a plugin workload: the store's own driver through a bare 1:1 TCP relay process, the floor of any hop.
import { fileURLToPath } from 'node:url';
import { freePort } from '../../sandbox/ports.js';
import { spawnManaged, waitUntilListening } from '../../sandbox/process.js';
import type { PluginStore } from './plugin-workload.js';

const nodePipePath = fileURLToPath(new URL('../pipes/node-pipe.js', import.meta.url));

export interface RelaySide {
  statement: (i: number) => Promise<number>;
  /** The relay's process: its CPU per statement is what a hop costs without any protocol work. */
  pid: number;
  stop(): Promise<void>;
}

/** Starts node-pipe in front of the store and connects the store's driver through it; null when the store has no relayed driver. */
export async function startRelaySide(store: PluginStore): Promise<RelaySide | null> {
  if (!store.relayed) return null;
  const port = await freePort();
  const child = spawnManaged(process.execPath, [nodePipePath, String(port), String(store.relayed.port)]);
  try {
    await waitUntilListening(child, 'node-pipe', port);
    const driver = await store.relayed.connect(port);
    return {
      statement: driver.run,
      pid: child.pid,
      stop: async () => {
        await driver.stop();
        await child.stop();
      },
    };
  } catch (err) {
    await child.stop();
    throw err;
  }
}
