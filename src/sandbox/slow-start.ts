// Waiting for servers that take long to boot (a JVM, the Erlang VM), more so on a loaded machine.
import type { Managed } from './process.js';
import { waitForPort } from './wait.js';

/** Like waitUntilListening, with a longer deadline: RabbitMQ took over 30 s to listen on a busy 2-core machine. */
export async function waitUntilListeningSlow(child: Managed, name: string, port: number): Promise<void> {
  try {
    await waitForPort('127.0.0.1', port, {
      timeoutMs: 180_000,
      intervalMs: 200,
      what: `${name} on port ${port}`,
      giveUp: () => {
        const exit = child.exited();
        return exit ? new Error(`${name} exited (${exit}): ${child.output().trim()}`) : null;
      },
    });
  } catch (error) {
    await child.stop();
    throw error;
  }
}
