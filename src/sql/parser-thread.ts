// The parser thread: libpg-query in a worker, so a large statement neither stalls the event loop nor grows its heap.
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { LARGE_STATEMENT } from './statement-budget.js';

/** Work for the parser thread: a parse (answered as JSON text) or a parse and classification. */
export type ParserJob =
  { op: 'parse'; sql: string } | { op: 'classify'; sql: string; functions: readonly string[] };

export interface ParserRequest {
  id: number;
  job: ParserJob;
}

export type ParserReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };

/** What the worker is started with: where it answers, and the counter it bumps after each answer. */
export interface ParserWorkerData {
  replies: MessagePort;
  signal: SharedArrayBuffer;
}

/** An idle thread is stopped, giving back its heap and the WebAssembly memory the parser grew. */
const IDLE_MS = 3000;
/** After a statement this long the thread is stopped once idle: the parser's memory grows ~25x the text and stays. */
const RETIRE_AFTER_TEXT = 4 * 1024 * 1024;

/**
 * How long a synchronous caller waits for the thread to answer anything before giving up (a thread that
 * ran out of memory never answers, and a blocked event loop cannot hear that it exited). Parsing runs at
 * several MB per second, so this leaves a wide margin for the longest statement in the queue.
 */
function progressDeadlineMs(textLength: number): number {
  return 10_000 + Math.ceil(textLength / 1024 / 1024) * 2000;
}

/** A job sent to the thread: the length of its text, and who waits for it (nobody: a synchronous caller). */
interface Pending {
  length: number;
  resolve?: (reply: ParserReply) => void;
}

class ParserThread {
  /** False in the parser thread itself, which parses everything where it is. */
  enabled = true;
  private worker: Worker | null = null;
  private replies: MessagePort | null = null;
  private signal = new Int32Array(new SharedArrayBuffer(4));
  private pending = new Map<number, Pending>();
  private nextId = 1;
  private idleTimer: NodeJS.Timeout | null = null;
  private retire = false;
  /** Threads started so far (for tests and metrics). */
  started = 0;
  /** Why the thread could not start, once it failed to: large statements are then parsed where they come. */
  broken: string | null = null;

  /** Whether a statement of this length is parsed in the parser thread. */
  takes(textLength: number): boolean {
    return this.enabled && this.broken === null && textLength >= LARGE_STATEMENT;
  }

  /** Runs a job in the parser thread; never rejects (a failed or stopped thread answers `ok: false`). */
  call(job: ParserJob): Promise<ParserReply> {
    return new Promise((resolve) => this.submit(job, resolve));
  }

  /** Runs a job in the parser thread, blocking this one until it answers: the memory stays out of this heap. */
  callSync(job: ParserJob): ParserReply {
    const id = this.submit(job);
    let seen = Atomics.load(this.signal, 0);
    let deadline = Date.now() + progressDeadlineMs(this.longestPending());
    try {
      for (;;) {
        const reply = this.drain(id);
        if (reply) return reply;
        const now = Atomics.load(this.signal, 0);
        // Any answer shows the thread alive: the wait starts again for what is still queued.
        if (now !== seen) {
          seen = now;
          deadline = Date.now() + progressDeadlineMs(this.longestPending());
          continue;
        }
        const left = deadline - Date.now();
        if (left <= 0) {
          this.stop('the parser thread did not answer in time');
          return { id, ok: false, error: 'the parser thread did not answer in time' };
        }
        Atomics.wait(this.signal, 0, seen, left);
      }
    } finally {
      this.pending.delete(id);
      this.settle();
    }
  }

  /** Stops the thread now; jobs still waiting are answered with `reason`. */
  stop(reason = 'the parser thread was stopped'): void {
    const worker = this.worker;
    if (!worker) return;
    this.worker = null;
    this.replies?.close();
    this.replies = null;
    this.retire = false;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    void worker.terminate();
    const pending = [...this.pending];
    this.pending.clear();
    for (const [id, p] of pending) p.resolve?.({ id, ok: false, error: reason });
  }

  get running(): boolean {
    return this.worker !== null;
  }

  private submit(job: ParserJob, resolve?: (reply: ParserReply) => void): number {
    const worker = this.worker ?? this.start();
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    if (job.sql.length >= RETIRE_AFTER_TEXT) this.retire = true;
    const id = this.nextId++;
    this.pending.set(id, { length: job.sql.length, resolve });
    worker.ref();
    worker.postMessage({ id, job } satisfies ParserRequest);
    return id;
  }

  private longestPending(): number {
    let longest = 0;
    for (const p of this.pending.values()) longest = Math.max(longest, p.length);
    return longest;
  }

  private start(): Worker {
    const { port1, port2 } = new MessageChannel();
    const data: ParserWorkerData = { replies: port2, signal: this.signal.buffer as SharedArrayBuffer };
    const worker = spawnWorker(data, [port2]);
    this.started++;
    this.worker = worker;
    this.replies = port1;
    port1.on('message', (reply: ParserReply) => this.answer(reply));
    port1.unref();
    // A thread that failed (an uncaught error, or out of memory) takes its jobs with it.
    worker.on('error', (err) => {
      if (this.worker === worker) this.stop(`the parser thread failed: ${err.message}`);
    });
    worker.on('exit', (code) => {
      if (this.worker === worker) this.stop(`the parser thread exited (code ${code})`);
    });
    return worker;
  }

  /** Takes the replies already sent, answering waiting jobs; returns the one with `id` if among them. */
  private drain(id: number): ParserReply | null {
    let mine: ParserReply | null = null;
    for (;;) {
      const got = this.replies && receiveMessageOnPort(this.replies);
      if (!got) return mine ?? (this.worker ? null : { id, ok: false, error: this.broken ?? 'stopped' });
      const reply = got.message as ParserReply;
      if (reply.id === id) mine = reply;
      else this.answer(reply);
    }
  }

  private answer(reply: ParserReply): void {
    if (reply.id === BOOT_FAILED) {
      this.broken = reply.ok ? 'unknown' : reply.error;
      this.stop(`the parser thread could not start: ${this.broken}`);
      return;
    }
    const pending = this.pending.get(reply.id);
    if (!pending?.resolve) return;
    this.pending.delete(reply.id);
    pending.resolve(reply);
    this.settle();
  }

  /** With nothing left to do, the thread stops keeping the process alive and is stopped soon (or now, to retire). */
  private settle(): void {
    const worker = this.worker;
    if (!worker || this.pending.size > 0) return;
    worker.unref();
    if (this.retire) {
      this.stop();
      return;
    }
    this.idleTimer ??= setTimeout(() => this.stop(), IDLE_MS).unref();
  }
}

/** The reply id of a thread whose entry failed to load: it can answer nothing. */
export const BOOT_FAILED = 0;

/**
 * Starts the worker on the compiled entry next to this file or, when running from TypeScript sources (the
 * tests), on the .ts entry through a loader that strips types, since Node 20 runs no TypeScript itself.
 * An entry that fails to load says so as a reply, which a caller blocked in callSync can read.
 */
function spawnWorker(data: ParserWorkerData, transfer: MessagePort[]): Worker {
  const fromSource = import.meta.url.endsWith('.ts');
  const url = (name: string) => JSON.stringify(new URL(name, import.meta.url).href);
  const register = fromSource
    ? `(await import('node:module')).register(${url('./ts-source-hooks.mjs')});`
    : '';
  const boot = `const { workerData } = require('node:worker_threads');
(async () => { ${register} await import(${url(fromSource ? './parser-worker.ts' : './parser-worker.js')}); })().catch((err) => {
  workerData.replies.postMessage({ id: ${BOOT_FAILED}, ok: false, error: String(err && err.message || err) });
  const signal = new Int32Array(workerData.signal);
  Atomics.add(signal, 0, 1);
  Atomics.notify(signal, 0);
});`;
  return new Worker(boot, { eval: true, workerData: data, transferList: transfer });
}

/** The one parser thread of this process. */
export const parserThread = new ParserThread();
