// Starts the built proxy (dist/cli.js) as a process of its own on the default runtime (proxyCommand(): Node, or
// Bun with POLYPROXY_RUNTIME=bun), as `npm start` and the Docker image run it.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { spawnManaged, type Managed, type RunOptions } from '../../../src/sandbox/process.js';
import { proxyCommand } from '../../../src/sandbox/proxy-runtime.js';

export const cliPath = fileURLToPath(new URL('../../../dist/cli.js', import.meta.url));

/** The executable and its arguments that run dist/cli.js with this config file. */
export function proxyProcessCommand(
  configPath: string,
  env: NodeJS.ProcessEnv = process.env,
): { cmd: string; args: string[] } {
  if (!existsSync(cliPath))
    throw new Error(`${cliPath} is missing: run \`npm run build\` before the integration tests`);
  const { cmd, args } = proxyCommand(env);
  return { cmd, args: [...args, cliPath, '--config', configPath] };
}

/** The proxy process in a process group of its own (src/sandbox/process.ts), stopped at our exit. */
export function spawnProxy(configPath: string, opts: RunOptions = {}): Managed {
  const { cmd, args } = proxyProcessCommand(configPath, opts.env);
  return spawnManaged(cmd, args, opts);
}
