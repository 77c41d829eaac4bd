// The messages between the primary process and its workers (node:cluster IPC).

/** Primary -> worker: re-read the config file; stop gracefully; a client's cancel another worker received. */
export type ToWorker =
  | { kind: 'polyproxy:reload' }
  | { kind: 'polyproxy:stop' }
  | { kind: 'polyproxy:cancel'; pid: number; secret: number };

/** Worker -> primary: listening (ready for clients); a cancel for a client of another worker. */
export type ToPrimary =
  | { kind: 'polyproxy:listening'; host: string; port: number }
  | { kind: 'polyproxy:cancel'; pid: number; secret: number };

/** The environment variable that tells a forked worker its number (0-based, kept across restarts). */
export const workerIdVariable = 'POLYPROXY_WORKER_ID';

/** The low byte of the secret a worker hands its clients in BackendKeyData is the worker's number. */
export const workerOfSecret = (secret: number) => secret & 0xff;

const kinds = new Set(['polyproxy:reload', 'polyproxy:stop', 'polyproxy:cancel', 'polyproxy:listening']);

/** Our own messages; prom-client's aggregator shares the IPC channel with its own. */
export function isOurs<T extends { kind: string }>(m: unknown): m is T {
  return typeof m === 'object' && m !== null && kinds.has((m as { kind?: string }).kind ?? '');
}
