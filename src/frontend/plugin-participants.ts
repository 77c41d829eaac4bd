// Plugin work joined to a client's transaction block, finished with it.
import type { TransactionParticipant } from '../plugins/api.js';
import { messageOf } from '../plugins/host.js';
import type { Logger } from '../logger.js';

/** Commits (or rolls back) plugin work joined to a block; the first failed commit rolls back the rest. */
export async function finishParticipants(
  list: readonly TransactionParticipant[],
  commit: boolean,
  log: Logger,
): Promise<unknown> {
  for (let i = 0; i < list.length; i++) {
    if (!commit) {
      await list[i]
        .rollback()
        .catch((err: unknown) => log.warn('plugin rollback failed', { err: messageOf(err) }));
      continue;
    }
    try {
      await list[i].commit();
    } catch (err) {
      for (const rest of list.slice(i + 1))
        await rest
          .rollback()
          .catch((e: unknown) => log.warn('plugin rollback failed', { err: messageOf(e) }));
      return err;
    }
  }
  return null;
}
