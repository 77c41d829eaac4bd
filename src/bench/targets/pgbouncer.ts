// Target "pgbouncer": PgBouncer in transaction mode, or in session mode for -M prepared when it cannot do better.
import { join } from 'node:path';
import { startPgBouncer, type PgBouncer } from '../../sandbox/pgbouncer.js';
import type { BenchEnv } from '../bench-env.js';
import { runPgbench, type Endpoint } from '../pgbench.js';
import { poolerEndpoint, poolerUser } from './pooler-user.js';
import type { Connection, Target } from './target.js';

function start(env: BenchEnv, poolMode: 'transaction' | 'session', poolSize: number): Promise<PgBouncer> {
  return startPgBouncer({
    baseDir: join(env.baseDir, 'bench'),
    backend: env.primary,
    database: env.direct.database,
    poolMode,
    poolSize,
    user: poolerUser.name,
    password: poolerUser.password,
    maxClientConn: 1000,
  });
}

/**
 * PgBouncer before 1.21 does not track protocol-level prepared statements, so in transaction mode a client's
 * statement may be missing on the next server connection. More clients than server connections make that
 * show within seconds.
 */
async function keepsPreparedStatements(
  env: BenchEnv,
  endpoint: Endpoint,
): Promise<{ ok: boolean; why: string }> {
  const clients = Math.max(...env.options.clients, env.options.poolSize * 2);
  const report = await runPgbench(endpoint, {
    // TPC-B: several statements per transaction, so clients really do move between server connections.
    workloadArgs: [],
    mode: 'prepared',
    clients,
    threads: env.options.threads,
    durationS: 3,
  });
  return { ok: report.ok, why: report.error ?? `${report.tps} tps` };
}

export const pgbouncerTarget: Target = {
  name: 'pgbouncer',
  async start(env) {
    const { poolSize } = env.options;
    const transaction = await start(env, 'transaction', poolSize);
    const transactionEndpoint = poolerEndpoint(env, transaction.port);
    const notes: string[] = [];
    let prepared: Promise<Connection> | undefined;
    let session: PgBouncer | undefined;
    const preparedConnection = async (): Promise<Connection> => {
      const probe = await keepsPreparedStatements(env, transactionEndpoint);
      if (probe.ok) {
        notes.push(`PgBouncer kept prepared statements in transaction mode (probe: ${probe.why})`);
        return { endpoint: transactionEndpoint };
      }
      // In session mode every client holds a server connection, so the pool must fit all clients.
      const sessionSize = Math.max(...env.options.clients, poolSize);
      session = await start(env, 'session', sessionSize);
      const variant = `session mode, pool ${sessionSize}`;
      notes.push(
        `PgBouncer failed -M prepared in transaction mode (${probe.why}); prepared cells use PgBouncer in ${variant}`,
      );
      return { endpoint: poolerEndpoint(env, session.port), variant };
    };
    return {
      async connectionFor(cell) {
        if (cell.mode !== 'prepared') return { endpoint: transactionEndpoint };
        prepared ??= preparedConnection();
        return prepared;
      },
      pids(cell) {
        return [cell.mode === 'prepared' && session ? session.pid : transaction.pid];
      },
      notes: () => notes,
      async stop() {
        await Promise.allSettled([transaction.stop(), session?.stop()]);
      },
    };
  },
};
