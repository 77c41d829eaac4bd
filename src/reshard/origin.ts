// Where a switched reshard came from, kept on the new first primary from the switch until FINISH or REVERT:
// the old shards and map, so a proxy started since on the new shards' config can REVERT (its config no longer
// names the old shards), and the server that coordinates the reshard's instances (the old first primary).
import type { ShardConfig, ShardingConfig } from '../config/schema.js';
import type { ServerLogin } from '../streams/stream-lock.js';
import { withClient, type Runner } from './connect.js';

export interface ReshardOrigin {
  readonly shards: ShardConfig[];
  readonly sharding: ShardingConfig;
}

const ensureSql = `CREATE TABLE IF NOT EXISTS polyproxy_reshard_origin (
  database text PRIMARY KEY, shards jsonb NOT NULL, sharding jsonb NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())`;

export async function writeOrigin(
  server: ServerLogin,
  database: string,
  origin: ReshardOrigin,
  run: Runner = withClient,
): Promise<void> {
  await run(server, async (client) => {
    await client.query(ensureSql);
    await client.query(
      `INSERT INTO polyproxy_reshard_origin (database, shards, sharding) VALUES ($1, $2, $3)
       ON CONFLICT (database) DO UPDATE SET shards = $2, sharding = $3, updated_at = now()`,
      [database, JSON.stringify(origin.shards), JSON.stringify(origin.sharding)],
    );
  });
}

/** The origin the server keeps for the database, or null (none kept, or the table does not exist). */
export async function readOrigin(
  server: ServerLogin,
  database: string,
  run: Runner = withClient,
): Promise<ReshardOrigin | null> {
  return run(server, async (client) => {
    const { rows } = await client
      .query<ReshardOrigin>(`SELECT shards, sharding FROM polyproxy_reshard_origin WHERE database = $1`, [
        database,
      ])
      .catch(() => ({ rows: [] as ReshardOrigin[] }));
    return rows[0] ?? null;
  });
}

/** Forgets the origin where it may be kept (FINISH, REVERT, an abandoned cutover), creating nothing. */
export async function forgetOrigin(server: ServerLogin, database: string): Promise<void> {
  await withClient(server, async (client) => {
    const { rows } = await client.query<{ kept: boolean }>(
      "SELECT to_regclass('polyproxy_reshard_origin') IS NOT NULL AS kept",
    );
    if (rows[0]?.kept)
      await client.query('DELETE FROM polyproxy_reshard_origin WHERE database = $1', [database]);
  });
}
