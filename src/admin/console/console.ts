// The admin console's entry point: what the listener calls for a client of the admin database.
import type { Logger } from '../../logger.js';
import type { SocketInput } from '../../net/socket-input.js';
import type { ConsoleSource } from './console-source.js';
import { ConsoleSession } from './console-session.js';

export type { ConsoleSource } from './console-source.js';

/** Returns the listener's openAdminConsole hook; the user's `admin: true` is read from the live config. */
export function adminConsole(
  source: ConsoleSource,
  log: Logger,
): (input: SocketInput, user: string, leftover: Buffer) => void {
  return (input, user, leftover) => {
    const isAdmin = source.config().users.some((u) => u.name === user && u.admin);
    new ConsoleSession(input, user, isAdmin, source, log.child({ console: true })).start(leftover);
  };
}
