// The runtime that runs the built proxy as a process (`npm start`, the Docker image, tests that spawn
// dist/cli.js): Node by default; POLYPROXY_RUNTIME=bun runs them on Bun from the `bun` dev dependency, which
// spends less CPU per transaction (README, "Runtime").
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The Bun executable the `bun` dev dependency installs. */
export const bundledBun = fileURLToPath(new URL('../../node_modules/.bin/bun', import.meta.url));

/** The executable and the arguments before the script for a proxy process. */
export function proxyCommand(env: NodeJS.ProcessEnv = process.env): { cmd: string; args: string[] } {
  if (env.POLYPROXY_RUNTIME !== 'bun') return { cmd: process.execPath, args: [] };
  if (!existsSync(bundledBun))
    throw new Error(
      `Bun not found at ${bundledBun}: run npm ci (bun is a dev dependency) or leave POLYPROXY_RUNTIME unset`,
    );
  return { cmd: bundledBun, args: [] };
}
