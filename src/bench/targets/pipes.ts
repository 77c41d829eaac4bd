// Reference targets "node-pipe", "bun-pipe" and "c-pipe": bare 1:1 relays to PostgreSQL, the transport floors of
// Node, Bun and C.
// They are not poolers (one PostgreSQL connection per client, PostgreSQL authenticates): they show how much of
// a pooler's cost is the runtime's I/O path and how much its own work.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../sandbox/ports.js';
import { run, spawnManaged, waitUntilListening, type Managed } from '../../sandbox/process.js';
import type { BenchEnv } from '../bench-env.js';
import { runtimeCommand } from './runtime.js';
import type { Target } from './target.js';

const nodePipePath = fileURLToPath(new URL('../pipes/node-pipe.js', import.meta.url));
const bunPipePath = fileURLToPath(new URL('../pipes/bun-pipe.js', import.meta.url));
const relaySource = fileURLToPath(new URL('../../../bench/pipes/relay.c', import.meta.url));

async function startPipe(env: BenchEnv, name: string, command: (port: number) => [string, string[]]) {
  const port = await freePort();
  const [cmd, args] = command(port);
  const child: Managed = spawnManaged(cmd, args);
  await waitUntilListening(child, name, port);
  return {
    connectionFor: async () => ({ endpoint: { ...env.direct, port } }),
    pids: () => [child.pid],
    notes: () => {
      const exit = child.exited();
      return exit ? [`${name} exited (${exit}): ${child.output().trim().slice(-2000)}`] : [];
    },
    stop: () => child.stop(),
  };
}

export const nodePipeTarget: Target = {
  name: 'node-pipe',
  start: (env) =>
    startPipe(env, 'node-pipe', (port) => [
      process.execPath,
      [nodePipePath, String(port), String(env.primary.port)],
    ]),
};

export const cPipeTarget: Target = {
  name: 'c-pipe',
  async start(env) {
    const dir = join(env.baseDir, 'c-pipe');
    await mkdir(dir, { recursive: true });
    const binary = join(dir, 'relay');
    try {
      await run('cc', ['-O2', '-o', binary, relaySource]);
    } catch (err) {
      throw new Error(`c-pipe needs a C compiler (cc) to build ${relaySource}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    return startPipe(env, 'c-pipe', (port) => [binary, [String(port), String(env.primary.port)]]);
  },
};

export const bunPipeTarget: Target = {
  name: 'bun-pipe',
  start: (env) =>
    startPipe(env, 'bun-pipe', (port) => {
      const { cmd, args } = runtimeCommand('bun');
      return [cmd, [...args, bunPipePath, String(port), String(env.primary.port)]];
    }),
};
