// A real RabbitMQ (Debian's package, installed by scripts/install-rabbitmq.sh) on a free loopback port with its own
// data directory, node name and epmd, so several run side by side; it can be killed and restarted with its data.
import { existsSync, rmSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onExit } from './cleanup.js';
import { freePort } from './ports.js';
import { spawnManaged, waitUntilListening, type Managed } from './process.js';
import { ServerProcess } from './server-process.js';
import { waitUntilListeningSlow } from './slow-start.js';
import { waitFor } from './wait.js';

export interface RabbitMqServer {
  port: number;
  /** amqp://guest:guest@127.0.0.1:<port> (guest may log in over loopback). */
  url: string;
  /** Stops the server and its epmd and removes the directory. */
  stop(): Promise<void>;
  /** SIGKILL, as a crash would end it; durable queues and persistent messages stay on disk. */
  kill(): Promise<void>;
  /** Starts it again on the same port with the same data (stopping it first if it still runs). */
  restart(): Promise<void>;
}

const serverScript = '/usr/lib/rabbitmq/bin/rabbitmq-server';

export async function startRabbitMq(): Promise<RabbitMqServer> {
  if (!existsSync(serverScript))
    throw new Error('RabbitMQ is not installed; run scripts/install-rabbitmq.sh');
  const dir = await mkdtemp(join(tmpdir(), 'polyproxy-rabbitmq-'));
  const unregisterDir = onExit({
    stop: () => rm(dir, { recursive: true, force: true }),
    kill: () => rmSync(dir, { recursive: true, force: true }),
  });
  const [port, distPort, epmdPort] = [await freePort(), await freePort(), await freePort()];
  await writeFile(join(dir, 'rabbitmq-env.conf'), '');
  await writeFile(join(dir, 'rabbitmq.conf'), '');
  const env = {
    ...process.env,
    // The Erlang cookie goes to $HOME: a home of its own keeps it from clashing with anything else.
    HOME: dir,
    ERL_EPMD_PORT: String(epmdPort),
    ERL_EPMD_ADDRESS: '127.0.0.1',
    RABBITMQ_NODENAME: `polyproxy_${port}@localhost`,
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_NODE_PORT: String(port),
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(dir, 'log'),
    RABBITMQ_CONF_ENV_FILE: join(dir, 'rabbitmq-env.conf'),
    RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
    RABBITMQ_PID_FILE: join(dir, 'rabbitmq.pid'),
  };
  // epmd of our own, started first so the node registers with it rather than starting a daemon that outlives us.
  const epmd: Managed = spawnManaged('epmd', ['-port', String(epmdPort), '-address', '127.0.0.1'], { env });
  await waitUntilListening(epmd, 'epmd', epmdPort);
  const server: ServerProcess = new ServerProcess(
    dir,
    unregisterDir,
    async () => {
      const started = spawnManaged(serverScript, [], { cwd: dir, env });
      await waitUntilListeningSlow(started, 'rabbitmq-server', port);
      server.child = started;
    },
    (killed) =>
      waitFor(() => killed.exited() !== null, { what: 'rabbitmq-server to die', timeoutMs: 10_000 }),
  );
  try {
    await server.start();
  } catch (error) {
    await epmd.stop();
    throw error;
  }
  return {
    port,
    url: `amqp://guest:guest@127.0.0.1:${port}`,
    stop: async () => {
      await server.stop();
      await epmd.stop();
    },
    kill: server.kill,
    restart: server.restart,
  };
}
