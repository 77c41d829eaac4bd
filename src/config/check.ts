// `polyproxy check-config FILE`: validates a config file and reports every problem found.
import path from 'node:path';
import { checkPlugins } from '../plugins/registry.js';
import { ConfigError, loadConfigFile } from './load.js';
import type { Env } from './env.js';

interface Output {
  write(text: string): unknown;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** Returns the process exit code: 0 when the file is valid, plugin sections included; 1 when it is not. */
export async function checkConfigCommand(
  file: string,
  env: Env = process.env,
  out: Output = process.stdout,
  err: Output = process.stderr,
): Promise<number> {
  try {
    const config = loadConfigFile(file, env);
    const problems = await checkPlugins(config.plugins, path.dirname(path.resolve(file)));
    if (problems.length > 0) {
      err.write(`${file}: ${plural(problems.length, 'problem')} in plugins:\n${problems.join('\n')}\n`);
      return 1;
    }
    const databases = plural(Object.keys(config.databases).length, 'database');
    const plugins = Object.keys(config.plugins).length;
    const extra = plugins > 0 ? `, ${plural(plugins, 'plugin')}` : '';
    out.write(`${file}: ok (${databases}, ${plural(config.users.length, 'user')}${extra})\n`);
    return 0;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    err.write(`${error.message}\n`);
    return 1;
  }
}
