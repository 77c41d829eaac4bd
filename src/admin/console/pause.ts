// PAUSE [db]: new transactions wait until RESUME; returns once transactions in flight have finished.
import { ProxyError } from '../../errors.js';
import type { ConsoleCommand } from './console-command.js';
import { activeCount, targetDatabases } from './pool-view.js';

const pollMs = 20;

export const pause: ConsoleCommand = {
  name: 'PAUSE',
  args: '[db]',
  maxArgs: 1,
  description:
    'new transactions (of db, or all) wait until RESUME; returns when running transactions are done',
  async run(source, [name]) {
    const dbs = targetDatabases(source, name);
    if (!dbs) throw new ProxyError('unknownDatabase', `database "${name}" does not exist`);
    const pools = dbs.flatMap((db) => db.pools());
    for (const pool of pools) pool.pause();
    // As PgBouncer, wait for connections in use to come back; bounded, since a session-pooled client holds its own.
    const deadline = Date.now() + source.config().shutdown_timeout;
    const busy = () => pools.reduce((n, p) => n + activeCount(p), 0);
    while (busy() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, pollMs));
    const left = busy();
    const notices =
      left > 0
        ? [
            `paused; ${left} server connection(s) still held by clients (session pooling or long transactions)`,
          ]
        : [];
    return { tag: 'PAUSE', notices };
  },
};
