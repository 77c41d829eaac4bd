// The one process of a sandbox server that can be stopped, killed as a crash would and restarted, in a temporary directory of its own.
import { rm } from 'node:fs/promises';
import type { Managed } from './process.js';

export class ServerProcess {
  /** The running process, or null; the launch function sets it. */
  child: Managed | null = null;

  /**
   * dir: removed, and unregisterDir called, on stop or when the first start fails.
   * launch: starts the process and waits until it serves. afterKill: waited for after SIGKILL, before the process is stopped.
   */
  constructor(
    private readonly dir: string,
    private readonly unregisterDir: () => void,
    readonly launch: () => Promise<void>,
    private readonly afterKill?: (killed: Managed) => Promise<unknown>,
  ) {}

  /** The first start (launch unless given): when it fails, the directory goes before the error is thrown. */
  async start(first: () => Promise<void> = this.launch): Promise<void> {
    try {
      await first();
    } catch (error) {
      await this.removeDir();
      throw error;
    }
  }

  private async halt(): Promise<void> {
    const running = this.child;
    this.child = null;
    await running?.stop();
  }

  private async removeDir(): Promise<void> {
    this.unregisterDir();
    await rm(this.dir, { recursive: true, force: true });
  }

  readonly stop = async (): Promise<void> => {
    await this.halt();
    await this.removeDir();
  };

  readonly kill = async (): Promise<void> => {
    const running = this.child;
    if (!running) return;
    try {
      process.kill(-running.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
    await this.afterKill?.(running);
    await this.halt();
  };

  readonly restart = async (): Promise<void> => {
    await this.halt();
    await this.launch();
  };
}
