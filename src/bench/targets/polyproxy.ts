// Target "polyproxy": the built proxy (dist/cli.js) in its own process, transaction pooling, same pool size as PgBouncer.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import type { ConfigInput } from '../../config/schema.js';
import { freePort } from '../../sandbox/ports.js';
import { spawnManaged, waitUntilListening } from '../../sandbox/process.js';
import type { BenchEnv } from '../environment.js';
import { poolerEndpoint, poolerUser } from './pooler-user.js';
import type { Target } from './target.js';

const cliPath = fileURLToPath(new URL('../../cli.js', import.meta.url));

/** The database name for workloads routed over the replicas. */
const routed = (env: BenchEnv) => `${env.direct.database}_routed`;

function config(env: BenchEnv, port: number, adminPort: number): ConfigInput {
  const { primary, direct } = env;
  const backend = { user: direct.user, password: direct.password, database: direct.database };
  const pool = { mode: 'transaction' as const, size: env.options.poolSize };
  return {
    listen: `127.0.0.1:${port}`,
    admin: `127.0.0.1:${adminPort}`,
    log: { level: 'warn' },
    shutdown_timeout: '2s',
    users: [{ name: poolerUser.name, password: poolerUser.password }],
    databases: {
      [direct.database]: { backend, pool, shards: [{ primary: `${primary.host}:${primary.port}` }] },
      ...(env.replicas.length > 0 && {
        [routed(env)]: {
          backend,
          pool,
          shards: [
            {
              primary: `${primary.host}:${primary.port}`,
              replicas: env.replicas.map((r) => `${r.host}:${r.port}`),
            },
          ],
        },
      }),
    },
  };
}

export const polyproxyTarget: Target = {
  name: 'polyproxy',
  async start(env) {
    const dir = join(env.baseDir, 'polyproxy');
    await mkdir(dir, { recursive: true });
    const [port, adminPort] = [await freePort(), await freePort()];
    const configPath = join(dir, 'polyproxy.yaml');
    await writeFile(configPath, stringify(config(env, port, adminPort)), { mode: 0o600 });
    const child = spawnManaged(process.execPath, [cliPath, '--config', configPath], { cwd: dir });
    await waitUntilListening(child, 'polyproxy', port);
    const endpoint = poolerEndpoint(env, port);
    let stopped = false;
    return {
      connectionFor: async (cell) =>
        cell.workload.usesReplicas
          ? {
              endpoint: { ...endpoint, database: routed(env) },
              variant: `reads routed to ${env.replicas.length} replicas`,
            }
          : { endpoint },
      notes: () => {
        const exit = stopped ? null : child.exited();
        return exit ? [`polyproxy exited (${exit}): ${child.output().trim().slice(-2000)}`] : [];
      },
      stop: () => {
        stopped = true;
        return child.stop();
      },
    };
  },
};
