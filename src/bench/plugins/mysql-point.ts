// Workload "mysql-point": a primary-key read of one row of a MariaDB table, by mysql2's prepared `execute` and through polyproxy.
import mysql from 'mysql2/promise';
import { startMariaDb } from '../../sandbox/mariadb.js';
import type { PluginWorkload } from './plugin-workload.js';

const rows = 1000;
const key = (i: number) => (i % rows) + 1;

export const mysqlPoint: PluginWorkload = {
  name: 'mysql-point',
  label: 'MySQL primary-key read (mysql2 execute vs polyproxy, schema legacy)',
  rowsPerStatement: 1,
  async start() {
    const maria = await startMariaDb();
    // The proxy's own connection options (the plugin's index.ts), so both sides decode the same way.
    const direct = await mysql.createConnection({
      host: maria.host,
      port: maria.port,
      user: maria.user,
      dateStrings: true,
      supportBigNumbers: true,
      bigNumberStrings: true,
    });
    try {
      await direct.query('CREATE DATABASE shop');
      await direct.query('USE shop');
      await direct.query(
        'CREATE TABLE items (id int NOT NULL AUTO_INCREMENT PRIMARY KEY, name varchar(40) NOT NULL, qty int NULL)',
      );
      const values = Array.from({ length: rows }, (_, i) => `('item-${i + 1}', ${i % 100})`);
      await direct.query(`INSERT INTO items (name, qty) VALUES ${values.join(', ')}`);
    } catch (err) {
      await direct.end();
      await maria.stop();
      throw err;
    }
    const plugins = {
      mysql: { host: maria.host, port: maria.port, user: maria.user, database: 'shop', schema: 'legacy' },
    };
    return {
      plugins,
      direct: async (i) => {
        const [found] = await direct.execute('SELECT id, name, qty FROM items WHERE id = ?', [key(i)]);
        return (found as unknown[]).length;
      },
      sql: 'SELECT id, name, qty FROM legacy.items WHERE id = $1',
      params: (i) => [key(i)],
      literalSql: (i) => `SELECT id, name, qty FROM legacy.items WHERE id = ${key(i)}`,
      stop: async () => {
        await direct.end();
        await maria.stop();
      },
    };
  },
};
