// Runs sandbox tools and servers as child processes, as the postgres user when we are root.
import { spawn, execFileSync } from 'node:child_process';
import { chmod, chown, stat } from 'node:fs/promises';
import { onExit } from './cleanup.js';
import { waitForExitSync } from './pids.js';
import { waitForPort } from './wait.js';

const serverUserName = 'postgres';
const isRoot = () => process.getuid?.() === 0;

let ids: { uid: number; gid: number } | undefined;

function serverUserIds(): { uid: number; gid: number } {
  if (!ids) {
    const id = (flag: string) =>
      Number(execFileSync('id', [flag, serverUserName], { encoding: 'utf8' }).trim());
    ids = { uid: id('-u'), gid: id('-g') };
  }
  return ids;
}

/**
 * initdb, postgres and pgbouncer refuse to run as root, so as root they run as the postgres user. Spawning with
 * uid/gid does what `runuser -u postgres` does without its extra process, which delays every stop by two seconds.
 */
function identity(asServer: boolean | undefined): { uid?: number; gid?: number } {
  return asServer && isRoot() ? serverUserIds() : {};
}

/** Hands files we wrote to the user the servers run as; a no-op when we are not root. */
export async function chownForServer(...paths: string[]): Promise<void> {
  if (!isRoot()) return;
  const { uid, gid } = serverUserIds();
  for (const path of paths) await chown(path, uid, gid);
}

/** Lets the server user pass through a directory we created (mkdtemp makes it private to root). */
export async function openForServer(dir: string): Promise<void> {
  if (!isRoot()) return;
  const { mode } = await stat(dir);
  await chmod(dir, (mode & 0o777) | 0o011);
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  asServerUser?: boolean;
}

/** Runs a command to completion and returns its stdout; a failure carries stderr so the cause reaches the test log. */
export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const options = { cwd: opts.cwd, env: opts.env ?? process.env, ...identity(opts.asServerUser) };
    const child = spawn(cmd, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', reject);
    child.once('close', (code, signal) => {
      if (code === 0) resolve(stdout);
      else
        reject(
          new Error(
            `${cmd} ${args.join(' ')} failed (${signal ?? `exit ${code}`}): ${(stderr || stdout).trim()}`,
          ),
        );
    });
  });
}

export interface Managed {
  pid: number;
  /** The last lines the child wrote to stderr, for error messages. */
  output(): string;
  /** Null while running; the exit description once it ended. */
  exited(): string | null;
  stop(): Promise<void>;
}

const outputLimit = 8192;

/** Starts a long-running server in its own process group, stopped on our exit if nobody stopped it before. */
export function spawnManaged(cmd: string, args: string[], opts: RunOptions = {}): Managed {
  const options = { cwd: opts.cwd, env: opts.env ?? process.env, ...identity(opts.asServerUser) };
  // A process group of its own: one signal reaches the server and anything it started.
  const child = spawn(cmd, args, { ...options, detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
  let output = '';
  let exit: string | null = null;
  child.stderr
    .setEncoding('utf8')
    .on('data', (chunk: string) => (output = (output + chunk).slice(-outputLimit)));
  const ended = new Promise<void>((resolve) => {
    child.once('error', (err) => {
      exit = err.message;
      resolve();
    });
    child.once('exit', (code, signal) => {
      exit = signal ?? `exit ${code}`;
      resolve();
    });
  });
  const pid = child.pid ?? -1;
  const signalGroup = (signal: NodeJS.Signals) => {
    if (pid < 0 || exit !== null) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // The group is already gone.
    }
  };
  const unregister = onExit({
    stop: async () => {
      signalGroup('SIGTERM');
      await ended;
    },
    kill: () => {
      signalGroup('SIGTERM');
      if (!waitForExitSync([pid], 2000)) signalGroup('SIGKILL');
    },
  });
  return {
    pid,
    output: () => output,
    exited: () => exit,
    stop: async () => {
      unregister();
      signalGroup('SIGTERM');
      const timer = setTimeout(() => signalGroup('SIGKILL'), 5000);
      await ended;
      clearTimeout(timer);
    },
  };
}

/** Waits until a managed server listens on its port; stops it and fails with its output if it exits first. */
export async function waitUntilListening(child: Managed, name: string, port: number): Promise<void> {
  try {
    await waitForPort('127.0.0.1', port, {
      what: `${name} on port ${port}`,
      giveUp: () => {
        const exit = child.exited();
        return exit ? new Error(`${name} exited (${exit}): ${child.output().trim()}`) : null;
      },
    });
  } catch (err) {
    await child.stop();
    throw err;
  }
}
