// The plugin's MySQL pool with a bound on waiting for a connection: every one may be held by an open transaction block.
import type { PoolConnection as CoreConnection } from 'mysql2';
import type { Pool, PoolConnection } from 'mysql2/promise';
import { errorCodes } from '../../../errors.js';
import { PluginError } from '../../api.js';
import { toPluginError } from './errors.js';

/** Reads catalog rows and the server version: through the pool, or through the connection a block holds. */
export interface Reader {
  query(sql: string, values?: unknown[]): Promise<[unknown, unknown]>;
}

export class BoundedPool implements Reader {
  /** One promise wrapper per pooled connection: mysql2's getConnection() builds a new one (an EventEmitter) on every call. */
  private readonly wrappers = new WeakMap<CoreConnection, PoolConnection>();

  constructor(
    private readonly pool: Pool,
    private readonly size: number,
    private readonly timeoutMs: number,
  ) {}

  /** A connection within the bound, else 53300 as polyproxy's own pools answer; one that comes later goes straight back. */
  getConnection(): Promise<PoolConnection> {
    return new Promise((resolve, reject) => {
      let waiting = true;
      const timer = setTimeout(() => {
        waiting = false;
        reject(
          new PluginError(
            errorCodes.poolTimeout.sqlstate,
            `timed out waiting for a MySQL connection: all ${this.size} (plugins.mysql.pool_size) are in use`,
            'End transaction blocks that touched MySQL sooner, or raise plugins.mysql.pool_size or acquire_timeout.',
          ),
        );
      }, this.timeoutMs);
      this.pool.pool.getConnection((err, core) => {
        clearTimeout(timer);
        if (err) {
          if (waiting) reject(toPluginError(err));
        } else if (waiting) resolve(this.wrap(core));
        else core.release();
      });
    });
  }

  private wrap(core: CoreConnection): PoolConnection {
    let wrapper = this.wrappers.get(core);
    if (!wrapper) {
      wrapper = core.promise();
      this.wrappers.set(core, wrapper);
    }
    return wrapper;
  }

  async query(sql: string, values?: unknown[]): Promise<[unknown, unknown]> {
    const connection = await this.getConnection();
    try {
      return await connection.query(sql, values);
    } finally {
      connection.release();
    }
  }
}
