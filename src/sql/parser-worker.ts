// The parser thread's entry: parses (and classifies) the large statements the event loop hands over.
import { parentPort, workerData } from 'node:worker_threads';
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
    return { id, ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}

parentPort!.on('message', (request: ParserRequest) => {
  replies.postMessage(run(request));
  // A caller blocked in callSync waits on this counter.
  Atomics.add(counter, 0, 1);
  Atomics.notify(counter, 0);
});
