// A real Neo4j 5.26 (embedded, built by scripts/install-neo4j.sh) on a free loopback port, for graph tests and the sandbox.
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './ports.js';
import { spawnManaged } from './process.js';
import { waitFor } from './wait.js';

export interface Neo4jServer {
  /** bolt://127.0.0.1:<port>; authentication is off. */
  url: string;
  port: number;
  stop(): Promise<void>;
}

export interface Neo4jOptions {
  /** Called once the build is found, right before the JVM starts (the slow part). */
  onLaunch?: () => void;
  /** Where the temporary home directory goes (default: the OS temp dir); it is removed on stop. */
  baseDir?: string;
  /** Java heap limit, e.g. `512m`. */
  maxHeap?: string;
  startTimeoutMs?: number;
}

/** Printed by tools/neo4j's main once the default database answers queries. */
const readyLine = 'polyproxy-neo4j ready on bolt://127.0.0.1:';
const mainClass = 'dev.polyproxy.neo4j.EmbeddedNeo4j';
const buildDir = fileURLToPath(new URL('../../.cache/neo4j/', import.meta.url));

/** Neo4j reaches into JDK internals (off-heap buffers, Netty); Java 17 needs these opened explicitly. */
const jvmOpens = [
  '--add-opens=java.base/java.nio=ALL-UNNAMED',
  '--add-opens=java.base/sun.nio.ch=ALL-UNNAMED',
  '--add-opens=java.base/java.io=ALL-UNNAMED',
  '-Dio.netty.tryReflectionSetAccessible=true',
];

function classpath(): string {
  const listed = join(buildDir, 'classpath.txt');
  const classes = join(buildDir, 'classes');
  if (!existsSync(listed) || !existsSync(classes)) {
    throw new Error('the Neo4j test server is not built; run scripts/install-neo4j.sh');
  }
  return [classes, readFileSync(listed, 'utf8').trim()].join(':');
}

/** Starts Neo4j with an empty store and resolves once Bolt answers. */
export async function startNeo4j(opts: Neo4jOptions = {}): Promise<Neo4jServer> {
  const cp = classpath();
  const home = await mkdtemp(join(opts.baseDir ?? tmpdir(), 'neo4j-'));
  const port = await freePort();
  const args = [
    `-Xmx${opts.maxHeap ?? '512m'}`,
    // Faster start and fewer threads on small machines; a test server never runs long enough to need C2.
    '-XX:+UseSerialGC',
    '-XX:TieredStopAtLevel=1',
    ...jvmOpens,
    '-cp',
    cp,
    mainClass,
    join(home, 'home'),
    String(port),
  ];
  opts.onLaunch?.();
  const child = spawnManaged('java', args, { cwd: home });
  const stop = async () => {
    await child.stop();
    await rm(home, { recursive: true, force: true });
  };
  try {
    await waitFor(() => child.output().includes(readyLine + port), {
      timeoutMs: opts.startTimeoutMs ?? 120_000,
      intervalMs: 200,
      what: `Neo4j on port ${port}`,
      giveUp: () => {
        const exit = child.exited();
        return exit ? new Error(`Neo4j exited (${exit}): ${child.output().trim()}`) : null;
      },
    });
  } catch (err) {
    await stop();
    throw err;
  }
  return { url: `bolt://127.0.0.1:${port}`, port, stop };
}
