// RELOAD: re-reads the config file and applies it, as SIGHUP does; unchanged databases keep their clients.
import { ConfigError } from '../../config/load.js';
import { ProxyError } from '../../errors.js';
import type { ConsoleCommand } from './console-command.js';

export const reload: ConsoleCommand = {
  name: 'RELOAD',
  description:
    're-read the config file: changed databases drain and restart, users and limits apply to new logins',
  async run(source) {
    try {
      await source.reload();
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      throw new ProxyError(
        'configFileError',
        err.message,
        'fix the file and RELOAD again; the running config is kept',
      );
    }
    return { tag: 'RELOAD' };
  },
};
