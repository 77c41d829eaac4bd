// A real ElasticMQ (an SQS-compatible server, resolved by scripts/install-elasticmq.sh) on a free loopback port, its
// queues and messages stored in a directory of its own so a kill and restart keeps them.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { onExit } from './cleanup.js';
import { freePort } from './ports.js';
import { spawnManaged } from './process.js';
import { ServerProcess } from './server-process.js';
import { waitUntilListeningSlow } from './slow-start.js';
import { waitFor } from './wait.js';

export interface ElasticMqServer {
  port: number;
  /** http://127.0.0.1:<port>: the endpoint for the AWS SDK (any region and credentials are accepted). */
  endpoint: string;
  stop(): Promise<void>;
  kill(): Promise<void>;
  /** Starts it again on the same port with the stored queues and messages. */
  restart(): Promise<void>;
}

const classpathFile = fileURLToPath(new URL('../../.cache/elasticmq/classpath.txt', import.meta.url));

function classpath(): string {
  if (!existsSync(classpathFile))
    throw new Error('ElasticMQ is not installed; run scripts/install-elasticmq.sh');
  return readFileSync(classpathFile, 'utf8').trim();
}

const config = (port: number, dir: string) => `include classpath("application.conf")
node-address { protocol = http, host = "127.0.0.1", port = ${port}, context-path = "" }
rest-sqs { enabled = true, bind-port = ${port}, bind-hostname = "127.0.0.1", sqs-limits = strict }
rest-stats { enabled = false }
queues-storage { enabled = true, path = "${join(dir, 'queues.conf')}" }
messages-storage { enabled = true, uri = "jdbc:h2:${join(dir, 'messages')}" }
`;

export async function startElasticMq(): Promise<ElasticMqServer> {
  const cp = classpath();
  const dir = await mkdtemp(join(tmpdir(), 'polyproxy-elasticmq-'));
  const unregisterDir = onExit({
    stop: () => rm(dir, { recursive: true, force: true }),
    kill: () => rmSync(dir, { recursive: true, force: true }),
  });
  const port = await freePort();
  await writeFile(join(dir, 'elasticmq.conf'), config(port, dir));
  const args = [
    '-Xmx256m',
    '-XX:+UseSerialGC',
    '-XX:TieredStopAtLevel=1',
    `-Dconfig.file=${join(dir, 'elasticmq.conf')}`,
    '-cp',
    cp,
    'org.elasticmq.server.Main',
  ];
  const server: ServerProcess = new ServerProcess(
    dir,
    unregisterDir,
    async () => {
      const started = spawnManaged('java', args, { cwd: dir });
      await waitUntilListeningSlow(started, 'elasticmq', port);
      server.child = started;
    },
    (killed) => waitFor(() => killed.exited() !== null, { what: 'elasticmq to die', timeoutMs: 10_000 }),
  );
  await server.start();
  return {
    port,
    endpoint: `http://127.0.0.1:${port}`,
    stop: server.stop,
    kill: server.kill,
    restart: server.restart,
  };
}
