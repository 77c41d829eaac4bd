// Runs a client tool (pgbench, psql) to completion within a deadline, killed on timeout or when the bench exits.
import { spawn } from 'node:child_process';
import { onExit } from '../sandbox/cleanup.js';

export interface CommandResult {
  /** Exit code, or null when a signal ended it. */
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  elapsedMs: number;
}

const outputLimit = 64 * 1024;
const graceMs = 3000;

/** Never rejects for a failing command: the caller decides what an exit code means. */
export function runCommand(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<CommandResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout = (stdout + c).slice(-outputLimit)));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr = (stderr + c).slice(-outputLimit)));
    const signal = (name: NodeJS.Signals) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(name);
    };
    const unregister = onExit({ stop: async () => signal('SIGKILL'), kill: () => signal('SIGKILL') });
    const killTimer = setTimeout(() => {
      timedOut = true;
      signal('SIGTERM');
      setTimeout(() => signal('SIGKILL'), graceMs).unref();
    }, opts.timeoutMs);
    child.once('error', (err) => {
      clearTimeout(killTimer);
      unregister();
      reject(err);
    });
    child.once('close', (code) => {
      clearTimeout(killTimer);
      unregister();
      resolve({ code, stdout, stderr, timedOut, elapsedMs: Date.now() - started });
    });
  });
}
