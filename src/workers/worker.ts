// A worker process: a full proxy on the shared listen address, steered by the primary over IPC.
import client from 'prom-client';
import { ConfigError, loadConfigFile } from '../config/load.js';
import { createLogger } from '../logger.js';
import { startProxy } from '../proxy.js';
import { isOurs, workerIdVariable, type ToPrimary, type ToWorker } from './messages.js';
import { workerConfig } from './worker-plan.js';

const send = (m: ToPrimary) => process.send?.(m);

export async function runWorker(path: string, workers: number): Promise<void> {
  const id = Number(process.env[workerIdVariable]);
  const configFor = () => workerConfig(loadConfigFile(path), workers, id);
  const config = configFor();
  const log = createLogger(config.log).child({ worker: id });
  const proxy = await startProxy(config, {
    configPath: path,
    logger: log,
    worker: { id, forwardCancel: (pid, secret) => send({ kind: 'polyproxy:cancel', pid, secret }) },
  });
  // The primary's AggregatorRegistry asks every worker for these over the same IPC channel; constructing one
  // here is what makes prom-client answer those requests in this process.
  client.AggregatorRegistry.setRegistries([proxy.registry]);
  new client.AggregatorRegistry();
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    proxy.close().then(() => process.exit(0));
  };
  process.on('message', (m: unknown) => {
    if (!isOurs<ToWorker>(m)) return;
    if (m.kind === 'polyproxy:cancel') proxy.cancel(m.pid, m.secret);
    else if (m.kind === 'polyproxy:stop') stop();
    else if (m.kind === 'polyproxy:reload') {
      try {
        proxy.reload(configFor()).catch((err: Error) => log.error('reload failed', { err: err.message }));
      } catch (err) {
        log.error('new configuration is invalid; keeping the current one', {
          errors: err instanceof ConfigError ? err.errors : [String(err)],
        });
      }
    }
  });
  // Ctrl-C reaches every process of the group: the primary stops the workers in order, so they ignore it.
  process.on('SIGINT', () => {});
  process.on('SIGTERM', stop);
  process.on('SIGHUP', () => {});
  send({ kind: 'polyproxy:listening', ...proxy.address });
}
