// The runtime a bench target's process runs on: this Node, or Bun (the `bun` dev dependency, or BENCH_BUN).
import { existsSync } from 'node:fs';
import { bundledBun } from '../../sandbox/proxy-runtime.js';

export type Runtime = 'node' | 'bun';

/** The executable and the flags before the script, for a process on `runtime`. */
export function runtimeCommand(runtime: Runtime): { cmd: string; args: string[] } {
  if (runtime === 'node') {
    // BENCH_PROXY_NODE_ARGS passes flags to node, e.g. `--cpu-prof` to profile the proxy.
    return {
      cmd: process.execPath,
      args: (process.env.BENCH_PROXY_NODE_ARGS ?? '').split(' ').filter(Boolean),
    };
  }
  const cmd = process.env.BENCH_BUN ?? bundledBun;
  if (!existsSync(cmd))
    throw new Error(`Bun not found at ${cmd}: run npm ci (bun is a dev dependency) or set BENCH_BUN`);
  // BENCH_PROXY_BUN_ARGS passes flags to bun, e.g. `--cpu-prof-md` to profile the proxy.
  return { cmd, args: (process.env.BENCH_PROXY_BUN_ARGS ?? '').split(' ').filter(Boolean) };
}
