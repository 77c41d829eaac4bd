// The parser thread's entry: parses (and classifies) the large statements the event loop hands over.
import { parseSync } from 'libpg-query';
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { classifyText } from '../router/classify-text.js';
import { loadParser, parseHere } from './parser.js';
import {
  parserThread,
  type ParserReply,
  type ParserRequest,
  type ParserWorkerData,
} from './parser-thread.js';

parserThread.enabled = false;
await loadParser();

const { replies, signal } = workerData as ParserWorkerData;
const counter = new Int32Array(signal);
/** The last set of side-effect functions, by its names: the same set comes with every job of a config. */
let functions: { key: string; set: ReadonlySet<string> } | null = null;

function run(request: ParserRequest): ParserReply {
  const { id, job } = request;
  try {
    if (job.op === 'parse') return { id, ok: true, value: JSON.stringify(parseHere(job.sql)) };
    const key = job.functions.join('\n');
    if (functions?.key !== key) functions = { key, set: new Set(job.functions) };
    return { id, ok: true, value: classifyText(job.sql, functions.set) };
  } catch (err) {
    return { id, ok: false, error: (err as { message?: string } | null)?.message ?? String(err) };
  }
}

/**
 * Whether the parser still works. A statement too large for its memory makes it exit (FATAL in
 * PostgreSQL's allocator), and the module then fails every later parse: such a thread must be replaced.
 */
function parserAlive(): boolean {
  try {
    parseSync('SELECT 1');
    return true;
  } catch {
    return false;
  }
}

function send(reply: ParserReply): void {
  replies.postMessage(reply);
  // A caller blocked in callSync waits on this counter.
  Atomics.add(counter, 0, 1);
  Atomics.notify(counter, 0);
}

/** Bun's full collection, where the thread runs on Bun. */
const collect = (globalThis as { Bun?: { gc(sync: boolean): void } }).Bun?.gc;

parentPort!.on('message', (request: ParserRequest) => {
  send(run(request));
  // A large statement's tree is tens of MB of garbage. V8 frees it soon; Bun's collector let it pile up to
  // 300-500 MB over 50 one-MB statements (memory.test.ts), so on Bun it is collected after every job.
  collect?.(true);
  if (parserAlive()) return;
  // Jobs already queued are answered at once, so no caller waits on a thread that is going away.
  const error = 'the parser failed on an earlier, larger statement';
  for (let m = receiveMessageOnPort(parentPort!); m; m = receiveMessageOnPort(parentPort!))
    send({ id: (m.message as ParserRequest).id, ok: false, error });
  process.exit(1);
});
