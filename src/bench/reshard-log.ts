// The reshard bench's reading of the proxy's JSON log: when each phase ended, the copy's own duration and the
// cutover's "reshard switched" line (pause, drain, catch-up, tail, live verification), as the proxy timed them.
import { readFile } from 'node:fs/promises';

/** The fields of the proxy's "reshard switched" log line, and when it was written. */
export interface SwitchLog {
  readonly at: number;
  readonly pausedMs: number;
  readonly drainMs: number;
  readonly catchUpMs: number;
  readonly verifyMs: number;
  readonly beforeSwitchMs: number;
  readonly live: { ms: number };
  readonly tail: { keys: number; ms: number };
}

export interface ProxyLog {
  /** The last new shard's tables made. */
  readonly schemaEnd: number | null;
  readonly copySeconds: number | null;
  readonly copyEnd: number | null;
  /** Keys and indexes made: the streams start. */
  readonly streamStart: number | null;
  readonly switched: SwitchLog | null;
}

export async function readProxyLog(path: string): Promise<ProxyLog> {
  const log: { -readonly [K in keyof ProxyLog]: ProxyLog[K] } = {
    schemaEnd: null,
    copySeconds: null,
    copyEnd: null,
    streamStart: null,
    switched: null,
  };
  for (const line of (await readFile(path, 'utf8')).split('\n')) {
    if (!line.startsWith('{')) continue;
    const entry = JSON.parse(line) as Record<string, unknown>;
    const at = Date.parse(String(entry.time));
    if (entry.msg === 'reshard switched') log.switched = { ...(entry as object), at } as SwitchLog;
    if (entry.msg !== 'reshard') continue;
    if (entry.phase === 'schema') log.schemaEnd = at;
    if (entry.phase === 'stream') log.streamStart = at;
    const copied = entry.phase === 'copy' && /rows in ([\d.]+) s$/.exec(String(entry.message));
    if (copied) [log.copySeconds, log.copyEnd] = [Number(copied[1]), at];
  }
  return log;
}
