// Built-in plugin `mysql`: SQL over a MySQL (or MariaDB) database's tables, one SQL schema (e.g. `legacy`) mapped to it.
import { readFileSync } from 'node:fs';
import mysql from 'mysql2/promise';
import type { PolyproxyPlugin } from '../../api.js';
import { BoundedPool } from './bounded-pool.js';
import { Catalog } from './catalog.js';
import { mysqlConfigSchema, type MysqlConfig } from './config.js';
import { MysqlHandler } from './handler.js';
import { BlockTransactions } from './transactions.js';

/**
 * Every pooled session: UTC (TIMESTAMP columns read as timestamptz in UTC), strict modes (bad values are errors
 * as in PostgreSQL, not warnings), and READ COMMITTED, PostgreSQL's default isolation level.
 */
const sessionSetup = [
  "SET time_zone = '+00:00', sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION'",
  'SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED',
];

/**
 * Prepared statements each pooled connection keeps (mysql2 closes the least recently used beyond): every
 * distinct statement text is one, a literal key makes each text distinct, and the server refuses more than
 * max_prepared_stmt_count (16382 by default) over all its connections; the pool takes at most half of that.
 */
export const preparedPerConnection = (poolSize: number): number =>
  Math.min(256, Math.max(16, Math.floor(8192 / poolSize)));

const mysqlPlugin: PolyproxyPlugin<MysqlConfig> = {
  name: 'mysql',
  polyproxy: '^0.1',
  configSchema: mysqlConfigSchema,
  register(ctx) {
    const { config } = ctx;
    // The pool connects on first use: a MySQL that is down fails its statements (08006), not the proxy.
    const pool = mysql.createPool({
      host: config.host,
      port: config.port,
      user: config.user,
      password: config.password,
      database: config.database,
      connectionLimit: config.pool_size,
      maxPreparedStatements: preparedPerConnection(config.pool_size),
      connectTimeout: config.connect_timeout,
      ssl: config.tls
        ? {
            ca: config.tls.ca ? readFileSync(config.tls.ca, 'utf8') : undefined,
            rejectUnauthorized: config.tls.verify,
          }
        : undefined,
      charset: 'utf8mb4_general_ci',
      dateStrings: true,
      supportBigNumbers: true,
      bigNumberStrings: true,
      decimalNumbers: false,
      jsonStrings: true,
      // No call-site stack captured per statement (an Error.captureStackTrace each): clients never see MySQL's stacks.
      trace: false,
    });
    pool.pool.on('connection', (connection) => {
      for (const sql of sessionSetup) connection.query(sql);
    });
    const statements = ctx.metrics.counter('statements_total', 'Statements run on MySQL by kind and result', [
      'kind',
      'result',
    ]);
    const bounded = new BoundedPool(pool, config.pool_size, config.acquire_timeout);
    const handler = new MysqlHandler(
      bounded,
      new Catalog(bounded, config.database, config.catalog_ttl),
      new BlockTransactions(bounded),
      config.schema,
      config.database,
      statements,
    );
    ctx.claim({ schemas: [config.schema] }, handler);
    ctx.onStop(() => pool.end());
    ctx.log.info('mysql: schema claimed', { schema: config.schema, database: config.database });
  },
};

export default mysqlPlugin;
