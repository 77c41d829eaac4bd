// The primary process with workers: forks them, restarts one that dies, and keeps what is global in one place
// (the admin HTTP address with /metrics summed over workers, cancels routed to a client's worker, SIGHUP, shutdown).
import cluster, { type Worker } from 'node:cluster';
import type http from 'node:http';
import client from 'prom-client';
import { startAdminHttp } from '../admin/http.js';
import { parseHostPort } from '../config/host-port.js';
import { ConfigError, loadConfigFile } from '../config/load.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../logger.js';
import { isOurs, workerIdVariable, workerOfSecret, type ToPrimary, type ToWorker } from './messages.js';
import { workerCount } from './worker-plan.js';

/** A worker that dies sooner than this after its start waits as long before it is started again. */
const restartBackoffMs = 1000;

export async function runPrimary(path: string, config: Config, workers: number, log: Logger): Promise<void> {
  const byId = new Map<number, Worker>();
  const listening = new Set<number>();
  let stopping = false;
  let started = false;
  let startupFailed: (why: Error) => void = () => {};
  let allListening: () => void = () => {};
  const ready = new Promise<void>((resolve, reject) => {
    allListening = resolve;
    startupFailed = reject;
  });
  const send = (id: number, m: ToWorker) => byId.get(id)?.send(m);

  const fork = (id: number) => {
    const worker = cluster.fork({ [workerIdVariable]: String(id) });
    const startedAt = Date.now();
    byId.set(id, worker);
    worker.on('message', (m: unknown) => {
      if (!isOurs<ToPrimary>(m)) return;
      if (m.kind === 'polyproxy:cancel') {
        send(workerOfSecret(m.secret), { kind: 'polyproxy:cancel', pid: m.pid, secret: m.secret });
      } else {
        listening.add(id);
        if (listening.size === workers) allListening();
      }
    });
    worker.on('exit', (code, signal) => {
      listening.delete(id);
      if (byId.get(id) === worker) byId.delete(id);
      if (stopping) return;
      if (!started) return startupFailed(new Error(`worker ${id} exited while starting (${signal ?? code})`));
      // The other workers keep their clients; this one's clients lost their connections with it.
      log.warn('worker exited; starting it again', { worker: id, code, signal });
      const wait = Date.now() - startedAt < restartBackoffMs ? restartBackoffMs : 0;
      setTimeout(() => !stopping && fork(id), wait);
    });
  };

  const stopWorkers = async (timeoutMs: number) => {
    stopping = true;
    const exits = [...byId.values()].map((w) => new Promise((r) => w.once('exit', r)));
    for (const id of byId.keys()) send(id, { kind: 'polyproxy:stop' });
    const timer = setTimeout(() => [...byId.values()].forEach((w) => w.process.kill('SIGKILL')), timeoutMs);
    await Promise.all(exits);
    clearTimeout(timer);
  };

  for (let id = 0; id < workers; id++) fork(id);
  try {
    await ready;
  } catch (err) {
    await stopWorkers(5000);
    throw err;
  }
  started = true;
  const admin = config.admin ? await startAggregatedAdmin(config.admin, () => !stopping) : undefined;
  log.info('polyproxy listening', { listen: config.listen, admin: config.admin, config: path, workers });

  process.on('SIGHUP', () => {
    try {
      const next = loadConfigFile(path);
      if (workerCount(next) !== workers)
        log.warn('a new number of workers takes effect when the proxy restarts', { workers });
      for (const id of byId.keys()) send(id, { kind: 'polyproxy:reload' });
    } catch (err) {
      log.error('new configuration is invalid; keeping the current one', {
        errors: err instanceof ConfigError ? err.errors : [String(err)],
      });
    }
  });
  const stop = (signal: string) => {
    if (stopping) process.exit(1);
    log.info('shutting down', { signal, workers });
    stopWorkers(config.shutdown_timeout + 5000)
      .then(() => new Promise<void>((resolve) => (admin ? admin.close(() => resolve()) : resolve())))
      .then(() => process.exit(0));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

/** /metrics summed over the workers (prom-client asks each one over IPC), /healthz, /readyz. */
function startAggregatedAdmin(address: string, ready: () => boolean): Promise<http.Server> {
  const aggregator = new client.AggregatorRegistry();
  const { host, port } = parseHostPort(address);
  const registry = { metrics: () => aggregator.clusterMetrics(), contentType: aggregator.contentType };
  return startAdminHttp(host, port, { registry, ready });
}
