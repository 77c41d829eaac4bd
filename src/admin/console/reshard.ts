// RESHARD <db> TO <target> | RESHARD <db> CANCEL: starts a reshard in the background (SHOW RESHARD follows it),
// or cancels it before its switch, leaving the old shards as they were.
import { ProxyError } from '../../errors.js';
import { createLogger } from '../../logger.js';
import { reshardOf, startReshard } from '../../reshard/job.js';
import type { ConsoleCommand } from './console-command.js';

const usage = 'usage: RESHARD <db> TO <target> | RESHARD <db> CANCEL';

export const reshard: ConsoleCommand = {
  name: 'RESHARD',
  args: '<db> TO <target> | <db> CANCEL',
  maxArgs: 3,
  description:
    'moves db to the named shard list of databases.<db>.reshard.targets (copy, stream, cutover), or cancels before the switch',
  async run(source, [name, verb, target]) {
    const db = name === undefined ? undefined : source.databases().get(name);
    if (!db) throw new ProxyError('unknownDatabase', `database "${name ?? ''}" does not exist`, usage);
    const action = verb?.toUpperCase();
    if (action === 'CANCEL' && target === undefined) {
      const job = reshardOf(db);
      // A failed reshard keeps its slots (it can be started again): CANCEL drops them.
      if (!job || (job.status !== 'running' && job.status !== 'failed'))
        throw new ProxyError('invalidParameterValue', `no reshard of "${db.name}" to cancel`);
      await job.cancel().catch((error: Error) => {
        throw new ProxyError('invalidParameterValue', error.message);
      });
      return {
        tag: 'RESHARD',
        notices: [`reshard of "${db.name}" cancelled; the old shards serve as before`],
      };
    }
    if (action !== 'TO' || target === undefined)
      throw new ProxyError('syntaxError', 'RESHARD needs TO or CANCEL', usage);
    try {
      const job = startReshard(db, target, createLogger(source.config().log).child({ reshard: db.name }));
      return {
        tag: 'RESHARD',
        notices: [
          `reshard of "${db.name}" to "${target}" (${job.next.shards.length} shards) started; SHOW RESHARD follows it`,
        ],
      };
    } catch (error) {
      throw new ProxyError('invalidParameterValue', (error as Error).message, usage);
    }
  },
};
