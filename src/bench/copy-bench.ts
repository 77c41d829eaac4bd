// COPY of a TPC-H-lineitem-like table (16 columns) into 3 shards through polyproxy vs into one PostgreSQL directly.
// `node dist/bench/copy-bench.js [--rows N] [--rounds N]`: wall time of each COPY, interleaved, and the proxy's CPU.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { stringify } from 'yaml';
import { runScript } from './script-main.js';
import { freePort } from '../sandbox/ports.js';
import { startCluster } from '../sandbox/postgres.js';
import { spawnManaged, waitUntilListening } from '../sandbox/process.js';
import { cpuMeter } from './process-cpu.js';

const cliPath = fileURLToPath(new URL('../cli.js', import.meta.url));
const user = { name: 'bench', password: 'bench-copy' };

const lineitemDdl = `CREATE TABLE lineitem (
  l_orderkey int8, l_partkey int8, l_suppkey int8, l_linenumber int,
  l_quantity numeric(15,2), l_extendedprice numeric(15,2), l_discount numeric(15,2), l_tax numeric(15,2),
  l_returnflag char(1), l_linestatus char(1), l_shipdate date, l_commitdate date, l_receiptdate date,
  l_shipinstruct char(25), l_shipmode char(10), l_comment varchar(44))`;

const modes = ['TRUCK', 'MAIL', 'SHIP', 'AIR', 'RAIL', 'FOB', 'REG AIR'];
const instructs = ['DELIVER IN PERSON', 'COLLECT COD', 'NONE', 'TAKE BACK RETURN'];

/** Row i, in the shape dbgen writes (orders of 1 to 7 lines), as COPY text: generated once, before timing. */
function lineitemChunks(rows: number): Buffer[] {
  const chunks: Buffer[] = [];
  let batch: string[] = [];
  for (let i = 0; i < rows; i++) {
    const order = Math.floor(i / 4) + 1;
    const day = (n: number) => `199${(i + n) % 8}-0${((i + n) % 9) + 1}-${((i + n) % 18) + 10}`;
    batch.push(
      [
        order,
        (i * 7919) % 200_000,
        (i * 104_729) % 10_000,
        (i % 4) + 1,
        (i % 50) + 1,
        ((i * 37) % 100_000) + 0.5,
        ((i % 11) / 100).toFixed(2),
        ((i % 9) / 100).toFixed(2),
        'ARN'[i % 3],
        'OF'[i % 2],
        day(0),
        day(30),
        day(45),
        instructs[i % 4],
        modes[i % 7],
        `carefully final deposits ${i % 997} detect slyly`,
      ].join('\t'),
    );
    if (batch.length === 500) {
      chunks.push(Buffer.from(batch.join('\n') + '\n'));
      batch = [];
    }
  }
  if (batch.length > 0) chunks.push(Buffer.from(batch.join('\n') + '\n'));
  return chunks;
}

async function timedCopy(config: pg.ClientConfig, chunks: Buffer[]): Promise<number> {
  const client = new pg.Client(config);
  await client.connect();
  try {
    await client.query('TRUNCATE lineitem');
    const started = performance.now();
    await pipeline(Readable.from(chunks), client.query(copyFrom('COPY lineitem FROM STDIN')));
    return performance.now() - started;
  } finally {
    await client.end();
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function flag(argv: string[], name: string, fallback: number): number {
  const at = argv.indexOf(`--${name}`);
  const value = at >= 0 ? Number(argv[at + 1]) : fallback;
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name}: expected a positive integer`);
  return value;
}

async function main(argv: string[]): Promise<void> {
  const rows = flag(argv, 'rows', 600_000);
  const rounds = Math.min(flag(argv, 'rounds', 3), 10);
  const log = (line: string) => process.stderr.write(`${line}\n`);
  log(`starting PostgreSQL (1 + 3 shards) and generating ${rows} rows`);
  const cluster = await startCluster({ shards: 4, replicasPerShard: 0 });
  const servers = cluster.shards.map((s) => s.primary);
  await Promise.all(servers.map((s) => s.psql('CREATE DATABASE bench')));
  await Promise.all(servers.map((s) => s.psql(lineitemDdl, 'bench')));
  const [one, ...shards] = servers;
  const backend = { user: 'postgres', password: cluster.password, database: 'bench' };
  const [port, adminPort] = [await freePort(), await freePort()];
  const config = {
    listen: `127.0.0.1:${port}`,
    admin: `127.0.0.1:${adminPort}`,
    log: { level: 'warn' },
    workers: 1,
    users: [{ name: user.name, password: user.password }],
    databases: {
      bench: {
        backend,
        pool: { mode: 'transaction', size: 2 },
        shards: shards.map((s) => ({ primary: `${s.host}:${s.port}` })),
        sharding: { tables: { lineitem: 'l_orderkey' } },
      },
    },
  };
  const dir = join(cluster.baseDir, 'copy-bench');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'polyproxy.yaml'), stringify(config), { mode: 0o600 });
  const proxy = spawnManaged(process.execPath, [cliPath, '--config', join(dir, 'polyproxy.yaml')], {
    cwd: dir,
  });
  await waitUntilListening(proxy, 'polyproxy', port);
  const chunks = lineitemChunks(rows);
  const direct = {
    host: one.host,
    port: one.port,
    user: 'postgres',
    password: cluster.password,
    database: 'bench',
  };
  const through = { host: '127.0.0.1', port, user: user.name, password: user.password, database: 'bench' };
  const times = { direct: [] as number[], sharded: [] as number[], cpu: [] as number[] };
  for (let r = 0; r < rounds; r++) {
    // Interleaved, and the order alternates, so neither side always runs on a warmer machine.
    const order = r % 2 === 0 ? (['direct', 'sharded'] as const) : (['sharded', 'direct'] as const);
    for (const side of order) {
      const cpu = side === 'sharded' ? cpuMeter([proxy.pid]) : null;
      const ms = await timedCopy(side === 'direct' ? direct : through, chunks);
      times[side].push(ms);
      if (cpu) times.cpu.push(((cpu(rows) ?? 0) * rows) / 1000);
      log(`round ${r + 1}/${rounds} ${side}: ${Math.round(ms)} ms`);
    }
  }
  const d = median(times.direct);
  const s = median(times.sharded);
  process.stdout.write(
    `COPY of ${rows} lineitem rows (median of ${rounds}): one PostgreSQL ${Math.round(d)} ms, ` +
      `3 shards through polyproxy ${Math.round(s)} ms (proxy CPU ${Math.round(median(times.cpu))} ms), ` +
      `ratio ${(s / d).toFixed(2)}\n`,
  );
  await proxy.stop();
  await cluster.stop();
}

runScript('copy bench', main);
