// One MySQL connection and transaction per client transaction block, begun on first use and ended with the block.
import type { PoolConnection } from 'mysql2/promise';
import type { SessionView } from '../../api.js';
import type { BoundedPool } from './bounded-pool.js';
import { toPluginError } from './errors.js';

interface OpenBlock {
  readonly connection: PoolConnection;
  readonly ready: Promise<void>;
}

export class BlockTransactions {
  /**
   * Keyed by the SessionView, one object for the client's whole connection; not by its settings map, which
   * RESET ALL replaces: the block's later statements would then run on a second connection, outside its transaction.
   */
  private readonly open = new WeakMap<SessionView, OpenBlock>();

  constructor(private readonly pool: BoundedPool) {}

  /** The connection the client's open block already holds, if any; begins nothing. */
  async held(client: SessionView): Promise<PoolConnection | undefined> {
    const existing = client.inTransaction ? this.open.get(client) : undefined;
    if (!existing) return undefined;
    try {
      await existing.ready;
    } catch (err) {
      throw toPluginError(err);
    }
    return existing.connection;
  }

  /** The block's connection, its transaction begun (read-only when the client's is) and enlisted on first use. */
  async connectionFor(client: SessionView): Promise<PoolConnection> {
    const existing = this.open.get(client);
    if (existing) {
      await existing.ready;
      return existing.connection;
    }
    const connection = await this.pool.getConnection();
    const ready = connection
      .query(client.readOnly ? 'START TRANSACTION READ ONLY' : 'START TRANSACTION')
      .then(() => undefined);
    const block = { connection, ready };
    this.open.set(client, block);
    let ended = false;
    const finish = (healthy: boolean) => {
      if (ended) return;
      ended = true;
      if (this.open.get(client) === block) this.open.delete(client);
      if (healthy) connection.release();
      else connection.destroy();
    };
    client.enlist({
      commit: async () => {
        try {
          await connection.query('COMMIT');
          finish(true);
        } catch (err) {
          finish(false);
          throw toPluginError(err);
        }
      },
      rollback: async () => {
        try {
          await connection.query('ROLLBACK');
          finish(true);
        } catch {
          // A connection that cannot roll back is dropped: MySQL rolls back what it held.
          finish(false);
        }
      },
    });
    try {
      await ready;
    } catch (err) {
      throw toPluginError(err);
    }
    return connection;
  }
}
