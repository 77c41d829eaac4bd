// One place that stops every sandbox server still running when the process ends, however it ends.
import { silentLogger, type Logger } from '../logger.js';

export interface Cleanup {
  /** Graceful stop, used on SIGINT/SIGTERM/SIGHUP while the event loop still runs. */
  stop(): Promise<void>;
  /** Synchronous last resort from the 'exit' handler (after a crash, process.exit or a test runner's own exit). */
  kill(): void;
}

const registered: Cleanup[] = [];
let installed = false;
let shuttingDown = false;
let log: Logger = silentLogger;

/** Where shutdown problems are reported; the sandbox passes its console logger. */
export function setCleanupLogger(logger: Logger): void {
  log = logger;
}

function killAll(): void {
  for (const cleanup of registered.splice(0).reverse()) {
    try {
      cleanup.kill();
    } catch {
      // Keep going: the remaining servers must still be stopped.
    }
  }
}

/** Stops everything registered, newest first, so a proxy closes before the servers behind it. */
export async function stopAll(): Promise<void> {
  while (registered.length > 0) {
    const cleanup = registered.pop()!;
    try {
      await cleanup.stop();
    } catch (err) {
      log.warn('sandbox cleanup failed', { error: String(err) });
      cleanup.kill();
    }
  }
}

function onSignal(signal: NodeJS.Signals, code: number): void {
  if (shuttingDown) {
    // A second Ctrl-C means "now": the exit handler kills what is left.
    process.exit(128 + code);
  }
  shuttingDown = true;
  log.info('stopping sandbox', { signal });
  void stopAll().finally(() => process.exit(128 + code));
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', killAll);
  process.on('SIGINT', () => onSignal('SIGINT', 2));
  process.on('SIGTERM', () => onSignal('SIGTERM', 15));
  process.on('SIGHUP', () => onSignal('SIGHUP', 1));
  // A forked worker (a test runner's) whose parent died keeps running; its servers must not outlive the run.
  process.on('disconnect', () => void stopAll());
}

/** Registers a running resource; call the returned function once the resource was stopped normally. */
export function onExit(cleanup: Cleanup): () => void {
  install();
  registered.push(cleanup);
  return () => {
    const at = registered.indexOf(cleanup);
    if (at >= 0) registered.splice(at, 1);
  };
}
