// RESHARD <db> TO <target> | CANCEL | REVERT | FINISH: starts a reshard in the background (SHOW RESHARD follows
// it), cancels it before its switch, and after the switch goes back to the old shards or keeps the new ones.
import { ProxyError } from '../../errors.js';
import { createLogger, type Logger } from '../../logger.js';
import type { Database } from '../../backend/database.js';
import { cancelLeftReshard } from '../../reshard/cancel-left.js';
import { reshardOf, startReshard } from '../../reshard/job.js';
import { primariesOf } from '../../reshard/logins.js';
import { revertLeftReshard } from '../../reshard/revert-left.js';
import { dropLeftReverse } from '../../reshard/reverse.js';
import type { ConsoleCommand } from './console-command.js';
import type { ConsoleResult } from './console-result.js';

const usage = 'usage: RESHARD <db> TO <target> | RESHARD <db> CANCEL | REVERT | FINISH';

/** CANCEL, REVERT and FINISH act on the database's latest reshard; their failures reach the client as such. */
async function endJob(db: Database, action: string, log: Logger): Promise<ConsoleResult> {
  const job = reshardOf(db);
  const name = db.name;
  if (!job && action === 'FINISH') return finishWithoutJob(db);
  if (!job && action === 'CANCEL') return cancelWithoutJob(db, log);
  if (!job && action === 'REVERT') return revertWithoutJob(db, log);
  if (!job)
    throw new ProxyError('invalidParameterValue', `no reshard of "${name}" to ${action.toLowerCase()}`);
  const fail = (error: Error): never => {
    throw new ProxyError('invalidParameterValue', error.message);
  };
  if (action === 'CANCEL') {
    // A failed reshard keeps its slots (it can be started again): CANCEL drops them. After the switch it refuses.
    if (job.status !== 'running' && job.status !== 'failed' && job.status !== 'switched')
      throw new ProxyError('invalidParameterValue', `no reshard of "${name}" to cancel`);
    await job.cancel().catch(fail);
    return { tag: 'RESHARD', notices: [`reshard of "${name}" cancelled; the old shards serve as before`] };
  }
  if (action === 'REVERT') {
    const result = await job.revert().catch(fail);
    return {
      tag: 'RESHARD',
      notices: [
        `reshard of "${name}" reverted: the old shards serve again (statements held ${result.pausedMs} ms); reverse slots dropped`,
      ],
    };
  }
  await job.finish().catch(fail);
  return {
    tag: 'RESHARD',
    notices: [`reshard of "${name}" finished: the reverse stream, its slots and publications are gone`],
  };
}

/** After a restart since the switch no job is left: FINISH still drops the reverse stream's slots. */
async function finishWithoutJob(db: Database): Promise<ConsoleResult> {
  const slots = await dropLeftReverse(db.name, primariesOf(db.config)).catch((error: Error) => {
    throw new ProxyError('invalidParameterValue', error.message);
  });
  return {
    tag: 'RESHARD',
    notices: [
      `no reshard of "${db.name}" in this proxy: ${slots} reverse slot(s) left on its shards dropped, with their publications`,
    ],
  };
}

/** After a restart since the switch (the config naming the new shards): REVERT resumes the reverse stream. */
async function revertWithoutJob(db: Database, log: Logger): Promise<ConsoleResult> {
  const result = await revertLeftReshard(db, log).catch((error: Error) => {
    throw new ProxyError('invalidParameterValue', error.message);
  });
  return {
    tag: 'RESHARD',
    notices: [
      `reshard of "${db.name}" reverted from a restarted proxy: the old shards serve again (statements held ${result.pausedMs} ms); reverse slots dropped`,
    ],
  };
}

/** After a restart (or a kill) before the switch no job is left: CANCEL acts on the state the old primary keeps. */
async function cancelWithoutJob(db: Database, log: Logger): Promise<ConsoleResult> {
  const cancelled = await cancelLeftReshard(db, log).catch((error: Error) => {
    throw new ProxyError('invalidParameterValue', error.message);
  });
  if (!cancelled) throw new ProxyError('invalidParameterValue', `no reshard of "${db.name}" to cancel`);
  return { tag: 'RESHARD', notices: [`reshard of "${db.name}" cancelled; the old shards serve as before`] };
}

export const reshard: ConsoleCommand = {
  name: 'RESHARD',
  args: '<db> TO <target> | <db> CANCEL | <db> REVERT | <db> FINISH',
  maxArgs: 3,
  description:
    'moves db to the named shard list of databases.<db>.reshard.targets (copy, stream, cutover, then a reverse stream); CANCEL before the switch; after it REVERT goes back to the old shards without loss, FINISH keeps the new ones and drops the reverse stream',
  async run(source, [name, verb, target]) {
    const db = name === undefined ? undefined : source.databases().get(name);
    if (!db) throw new ProxyError('unknownDatabase', `database "${name ?? ''}" does not exist`, usage);
    const action = verb?.toUpperCase();
    if (action && ['CANCEL', 'REVERT', 'FINISH'].includes(action) && target === undefined)
      return endJob(db, action, createLogger(source.config().log).child({ reshard: db.name }));
    if (action !== 'TO' || target === undefined)
      throw new ProxyError('syntaxError', 'RESHARD needs TO, CANCEL, REVERT or FINISH', usage);
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
