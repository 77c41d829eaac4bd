// A real Apache Cassandra 5.0 (embedded, built by scripts/install-cassandra.sh) on free loopback ports, for wide-column tests and the sandbox.
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import cassandra from 'cassandra-driver';
import { freePort } from './ports.js';
import { spawnManaged } from './process.js';
import { waitFor } from './wait.js';

export interface CassandraServer {
  /** 127.0.0.1:<port>, a contact point; authentication is off. */
  contactPoint: string;
  port: number;
  /** The data center a single node reports (the driver's localDataCenter). */
  dataCenter: string;
  stop(): Promise<void>;
}

export interface CassandraOptions {
  /** Called once the build is found, right before the JVM starts (the slow part). */
  onLaunch?: () => void;
  /** Where the temporary directory goes (default: the OS temp dir); it is removed on stop. */
  baseDir?: string;
  /** Java heap limit, e.g. `512m`. */
  maxHeap?: string;
  startTimeoutMs?: number;
}

/** Printed by tools/cassandra's main once the native transport (CQL) is running. */
const readyLine = 'polyproxy-cassandra ready on 127.0.0.1:';
const mainClass = 'dev.polyproxy.cassandra.EmbeddedCassandra';
const buildDir = fileURLToPath(new URL('../../.cache/cassandra/', import.meta.url));
/** SimpleSnitch names every node's data center so. */
const dataCenter = 'datacenter1';

/** Cassandra reaches into JDK internals (off-heap memory, reflection, JMX); Java 17 needs these opened explicitly. */
const jvmModules = [
  '-Djdk.attach.allowAttachSelf=true',
  ...['java.base/jdk.internal.misc', 'java.base/jdk.internal.ref', 'java.base/sun.nio.ch'].flatMap((pkg) => [
    '--add-exports',
    `${pkg}=ALL-UNNAMED`,
  ]),
  ...[
    'java.rmi/sun.rmi.registry',
    'java.rmi/sun.rmi.server',
    'java.sql/java.sql',
    'java.base/java.lang.ref',
    'jdk.unsupported/sun.misc',
    'java.management.rmi/com.sun.jmx.remote.internal.rmi',
  ].flatMap((pkg) => ['--add-exports', `${pkg}=ALL-UNNAMED`]),
  ...[
    'java.base/java.lang.module',
    'java.base/jdk.internal.loader',
    'java.base/jdk.internal.ref',
    'java.base/jdk.internal.reflect',
    'java.base/jdk.internal.math',
    'java.base/jdk.internal.module',
    'java.base/jdk.internal.util.jar',
    'jdk.management/com.sun.management.internal',
    'java.base/sun.nio.ch',
    'java.base/java.io',
    'java.base/java.nio',
    'java.base/java.util.concurrent',
    'java.base/java.util',
    'java.base/java.util.concurrent.atomic',
    'java.base/java.lang',
    'java.base/java.math',
    'java.base/java.lang.reflect',
    'java.base/java.net',
  ].flatMap((pkg) => ['--add-opens', `${pkg}=ALL-UNNAMED`]),
];

function classpath(): string {
  const listed = join(buildDir, 'classpath.txt');
  const classes = join(buildDir, 'classes');
  if (!existsSync(listed) || !existsSync(classes)) {
    throw new Error('the Cassandra test server is not built; run scripts/install-cassandra.sh');
  }
  return [classes, readFileSync(listed, 'utf8').trim()].join(':');
}

/** True once a CQL client can log in and read the node's own row. */
async function answersCql(port: number): Promise<boolean> {
  const client = new cassandra.Client({
    contactPoints: [`127.0.0.1:${port}`],
    localDataCenter: dataCenter,
    socketOptions: { connectTimeout: 2000, readTimeout: 5000 },
  });
  try {
    const result = await client.execute('SELECT release_version FROM system.local');
    return result.rowLength === 1;
  } finally {
    await client.shutdown();
  }
}

/** Starts Cassandra with empty data and resolves once CQL answers. */
export async function startCassandra(opts: CassandraOptions = {}): Promise<CassandraServer> {
  const cp = classpath();
  const dir = await mkdtemp(join(opts.baseDir ?? tmpdir(), 'cassandra-'));
  const port = await freePort();
  const storagePort = await freePort();
  const heap = opts.maxHeap ?? '512m';
  const args = [
    `-Xms${heap}`,
    `-Xmx${heap}`,
    // Faster start and fewer threads on small machines; a test server never runs long enough to need C2.
    '-XX:+UseSerialGC',
    '-XX:TieredStopAtLevel=1',
    '-Xss512k',
    ...jvmModules,
    '-cp',
    cp,
    mainClass,
    join(dir, 'node'),
    String(port),
    String(storagePort),
  ];
  opts.onLaunch?.();
  const child = spawnManaged('java', args, { cwd: dir });
  const stop = async () => {
    await child.stop();
    await rm(dir, { recursive: true, force: true });
  };
  const giveUp = () => {
    const exit = child.exited();
    return exit ? new Error(`Cassandra exited (${exit}): ${child.output().trim()}`) : null;
  };
  try {
    const timeoutMs = opts.startTimeoutMs ?? 180_000;
    const what = `Cassandra on port ${port}`;
    await waitFor(() => child.output().includes(readyLine + port), {
      timeoutMs,
      intervalMs: 250,
      what,
      giveUp,
    });
    await waitFor(() => answersCql(port), { timeoutMs: 30_000, intervalMs: 500, what, giveUp });
  } catch (err) {
    await stop();
    throw err;
  }
  return { contactPoint: `127.0.0.1:${port}`, port, dataCenter, stop };
}

/** Creates a keyspace with one replica (a single node), for the sandbox's tables. */
export async function createKeyspace(server: CassandraServer, keyspace: string): Promise<void> {
  const client = new cassandra.Client({
    contactPoints: [server.contactPoint],
    localDataCenter: server.dataCenter,
  });
  try {
    await client.execute(
      `CREATE KEYSPACE IF NOT EXISTS "${keyspace}" WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}`,
    );
  } finally {
    await client.shutdown();
  }
}
