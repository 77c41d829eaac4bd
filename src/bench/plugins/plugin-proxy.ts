// The proxy a plugin workload measures: the built dist/cli.js in its own process, the workload's plugin on, and a pg client to it.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { stringify } from 'yaml';
import type { ConfigInput } from '../../config/schema.js';
import { freePort } from '../../sandbox/ports.js';
import { spawnManaged, waitUntilListening, type Managed } from '../../sandbox/process.js';
import type { BenchEnv } from '../bench-env.js';
import { poolerEndpoint, poolerUser } from '../targets/pooler-user.js';

const cliPath = fileURLToPath(new URL('../../cli.js', import.meta.url));

/** The build at BENCH_BASELINE (a checkout whose `npm run build` ran), measured beside this one when set. */
export const baselineCli = (): string | null => {
  const root = process.env.BENCH_BASELINE;
  return root ? join(root, 'dist', 'cli.js') : null;
};

export interface PluginProxy {
  child: Managed;
  client: pg.Client;
  stop(): Promise<void>;
}

/** One proxy process with `plugins`, in front of the bench's PostgreSQL (which plugin statements never reach). */
export async function startPluginProxy(
  env: BenchEnv,
  name: string,
  plugins: NonNullable<ConfigInput['plugins']>,
  cli = cliPath,
): Promise<PluginProxy> {
  const [port, adminPort] = [await freePort(), await freePort()];
  const { primary, direct } = env;
  const config: ConfigInput = {
    listen: `127.0.0.1:${port}`,
    admin: `127.0.0.1:${adminPort}`,
    log: { level: 'warn' },
    shutdown_timeout: '2s',
    // One process, as the driver side is one: its CPU per statement is the proxy's alone.
    workers: 1,
    users: [{ name: poolerUser.name, password: poolerUser.password }],
    databases: {
      [direct.database]: {
        backend: { user: direct.user, password: direct.password, database: direct.database },
        pool: { mode: 'transaction', size: 2 },
        shards: [{ primary: `${primary.host}:${primary.port}` }],
      },
    },
    plugins,
  };
  const dir = join(env.baseDir, name);
  await mkdir(dir, { recursive: true });
  const configPath = join(dir, 'polyproxy.yaml');
  await writeFile(configPath, stringify(config), { mode: 0o600 });
  // BENCH_PROXY_NODE_ARGS passes flags to node for the proxy, e.g. `--cpu-prof` to profile it.
  const nodeArgs = (process.env.BENCH_PROXY_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawnManaged(process.execPath, [...nodeArgs, cli, '--config', configPath], { cwd: dir });
  await waitUntilListening(child, 'polyproxy', port);
  const client = new pg.Client({ ...poolerEndpoint(env, port), ssl: false });
  try {
    await client.connect();
  } catch (err) {
    await child.stop();
    throw err;
  }
  return {
    child,
    client,
    stop: async () => {
      await client.end().catch(() => {});
      await child.stop();
    },
  };
}
