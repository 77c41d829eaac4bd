// RESUME [db]: lifts a PAUSE; waiting transactions get their server connections in arrival order.
import { ProxyError } from '../../errors.js';
import type { ConsoleCommand } from './console-command.js';
import { targetDatabases } from './pool-view.js';

export const resume: ConsoleCommand = {
  name: 'RESUME',
  args: '[db]',
  maxArgs: 1,
  description: 'lift a PAUSE of db, or of all databases',
  run(source, [name]) {
    const dbs = targetDatabases(source, name);
    if (!dbs) throw new ProxyError('unknownDatabase', `database "${name}" does not exist`);
    for (const db of dbs) for (const pool of db.pools()) pool.resume();
    return { tag: 'RESUME' };
  },
};
