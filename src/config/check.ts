// `polyproxy check-config FILE`: validates a config file and reports every problem found.
import { ConfigError, loadConfigFile } from './load.js';
import type { Env } from './env.js';

interface Output {
  write(text: string): unknown;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** Returns the process exit code: 0 when the file is valid, 1 when it is not. */
export function checkConfigCommand(
  path: string,
  env: Env = process.env,
  out: Output = process.stdout,
  err: Output = process.stderr,
): number {
  try {
    const config = loadConfigFile(path, env);
    const databases = plural(Object.keys(config.databases).length, 'database');
    out.write(`${path}: ok (${databases}, ${plural(config.users.length, 'user')})\n`);
    return 0;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    err.write(`${error.message}\n`);
    return 1;
  }
}
