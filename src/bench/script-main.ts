// Runs a bench script's main function as a process: its servers stopped however it ends, exit code 0 or 1.
import { onExit, stopAll } from '../sandbox/cleanup.js';

export function runScript(name: string, main: (args: string[]) => Promise<void>): void {
  const unregister = onExit({ stop: async () => {}, kill: () => {} });
  main(process.argv.slice(2)).then(
    async () => {
      unregister();
      await stopAll();
      process.exit(0);
    },
    async (err: unknown) => {
      process.stderr.write(
        `${name} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
      );
      await stopAll();
      process.exit(1);
    },
  );
}
