// The proxy as a separate process (dist/cli.js, on the default runtime or POLYPROXY_RUNTIME's): large results stream through unbuffered, large statements leave no memory behind.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import type net from 'node:net';
import pg from 'pg';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/sandbox/ports.js';
import { waitForPort } from '../../src/sandbox/wait.js';
import { testConfigYaml } from './helpers/proxy.js';
import { proxyProcessCommand } from './helpers/proxy-process.js';
import { RawConnection, query } from './helpers/raw-client.js';
import { psql, sleep } from './helpers/tools.js';

let child: ChildProcess;
let port: number;
let stderr = '';

async function rssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = /VmRSS:\s+(\d+) kB/.exec(status);
  if (!kb) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(kb[1]) * 1024;
}

/** Samples the proxy's RSS every 10 ms while `work` runs; returns the peak. */
async function peakRssDuring(work: () => Promise<void>): Promise<number> {
  let peak = await rssBytes(child.pid!);
  let running = true;
  const sampler = (async () => {
    while (running) {
      peak = Math.max(peak, await rssBytes(child.pid!));
      await sleep(10);
    }
  })();
  try {
    await work();
  } finally {
    running = false;
    await sampler;
  }
  return Math.max(peak, await rssBytes(child.pid!));
}

/** Reads replies from a raw socket, counting DataRows, until ReadyForQuery. */
function countRows(socket: net.Socket): Promise<number> {
  return new Promise((resolve, reject) => {
    let rows = 0;
    let header = Buffer.alloc(0);
    let skip = 0;
    socket.on('error', reject);
    socket.on('data', (chunk: Buffer) => {
      let pos = 0;
      while (pos < chunk.length) {
        if (skip > 0) {
          const n = Math.min(skip, chunk.length - pos);
          skip -= n;
          pos += n;
          continue;
        }
        const need = 5 - header.length;
        header = Buffer.concat([header, chunk.subarray(pos, pos + need)]);
        pos += Math.min(need, chunk.length - pos);
        if (header.length < 5) break;
        const type = header[0];
        skip = header.readInt32BE(1) - 4;
        header = Buffer.alloc(0);
        if (type === 0x44) rows++;
        if (type === 0x45) reject(new Error('ErrorResponse from the proxy'));
        if (type === 0x5a) resolve(rows);
      }
    });
    socket.resume();
  });
}

const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;

beforeAll(async () => {
  port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'polyproxy-cli-'));
  const file = join(dir, 'polyproxy.yaml');
  await writeFile(file, testConfigYaml({ port, adminPort: await freePort(), poolSize: 2 }));
  // On the default runtime, or on Bun with POLYPROXY_RUNTIME=bun: the same bounds hold on both.
  const { cmd, args } = proxyProcessCommand(file);
  child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr = (stderr + s).slice(-8000)));
  await waitForPort('127.0.0.1', port, {
    timeoutMs: 20_000,
    giveUp: () => (child.exitCode !== null ? new Error(`polyproxy exited: ${stderr}`) : null),
  });
  const warm = await psql(`postgresql://app:app-secret@127.0.0.1:${port}/app`, ['-At', '-c', 'SELECT 1']);
  expect(warm.stdout).toBe('1\n');
});

afterAll(async () => {
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
});

describe('large results through the CLI proxy', () => {
  it('streams 1,000,000 rows to psql with less than 50 MB of RSS growth', async () => {
    const url = `postgresql://app:app-secret@127.0.0.1:${port}/app`;
    const before = await rssBytes(child.pid!);
    let result = { code: -1, stdout: '', stderr: '' };
    const peak = await peakRssDuring(async () => {
      result = await psql(url, [
        '-c',
        "SELECT g, repeat('x',100) FROM generate_series(1,1000000) g",
        '-o',
        '/dev/null',
      ]);
    });
    console.info(
      `proxy RSS: ${mb(before)} MB before, ${mb(peak)} MB at peak, growth ${mb(peak - before)} MB (psql)`,
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(peak - before).toBeLessThan(50 * 1024 * 1024);
  });

  it('holds a client that stops reading without buffering its result, then finishes it', async () => {
    const { conn } = await RawConnection.login(port, {
      user: 'app',
      password: 'app-secret',
      database: 'app',
    });
    const socket = conn.detach();
    socket.pause();
    const before = await rssBytes(child.pid!);
    socket.write(query("SELECT g, repeat('x',100) FROM generate_series(1,1000000) g"));
    const peak = await peakRssDuring(() => sleep(2000));
    console.info(
      `proxy RSS: ${mb(before)} MB before, ${mb(peak)} MB at peak, growth ${mb(peak - before)} MB (paused reader)`,
    );
    expect(peak - before).toBeLessThan(50 * 1024 * 1024);
    expect(await countRows(socket)).toBe(1_000_000);
    socket.destroy();
  });
});

/** `SELECT n WHERE k IN (…)` of about `chars` characters: its IN list is distinct for each `n`, and holds `k`. */
function largeInList(n: number, chars: number): { sql: string; k: number } {
  const values: number[] = [];
  let length = 0;
  for (let i = 0; length < chars; i++) {
    const v = 1_000_000 + ((i * 7919 + n * 104_729) % 9_000_000);
    values.push(v);
    length += 8;
  }
  return { sql: `SELECT ${n} AS n WHERE ${values[0]} IN (${values.join(',')})`, k: values[0] };
}

describe('many distinct large statements through the CLI proxy', () => {
  it('keep its RSS bounded while they run and give the memory back after', async () => {
    const clients = 2;
    const perClient = 25;
    const conns = await Promise.all(
      Array.from({ length: clients }, async () => {
        const c = new pg.Client({
          host: '127.0.0.1',
          port,
          user: 'app',
          password: 'app-secret',
          database: 'app',
        });
        await c.connect();
        return c;
      }),
    );
    const before = await rssBytes(child.pid!);
    const answers: number[] = [];
    const deadline = Date.now() + 120_000;
    const peak = await peakRssDuring(async () => {
      await Promise.all(
        conns.map(async (c, ci) => {
          for (let i = 0; i < perClient && Date.now() < deadline; i++) {
            // A distinct IN-list length gives each statement its own shape, as distinct clients' lists have.
            const { sql } = largeInList(ci * perClient + i, 1_000_000 + (ci * perClient + i) * 16);
            const { rows } = await c.query<{ n: number }>(sql);
            answers.push(rows[0].n);
          }
        }),
      );
    });
    await Promise.all(conns.map((c) => c.end()));
    expect(answers.sort((a, b) => a - b)).toEqual(Array.from({ length: clients * perClient }, (_, i) => i));
    // The old parse cache kept each statement's whole tree: about 20 MB per statement here, 1 GB in all.
    const after = await settledRss(before + 100 * 1024 * 1024, 30_000);
    console.info(
      `proxy RSS: ${mb(before)} MB before, ${mb(peak)} MB at peak, ${mb(after)} MB after ` +
        `(${clients * perClient} distinct 1 MB statements)`,
    );
    expect(peak - before).toBeLessThan(250 * 1024 * 1024);
    expect(after - before).toBeLessThan(100 * 1024 * 1024);
    // Within its own bounds: 120 s of statements, then 30 s for the memory to settle.
  }, 180_000);
});

/**
 * The proxy's RSS once it fell to `target` or `waitMs` passed: the parser thread stops a few seconds after
 * its last statement, and small statements give the collector a chance to run.
 */
async function settledRss(target: number, waitMs: number): Promise<number> {
  const c = new pg.Client({ host: '127.0.0.1', port, user: 'app', password: 'app-secret', database: 'app' });
  await c.connect();
  const until = Date.now() + waitMs;
  let rss = await rssBytes(child.pid!);
  try {
    while (rss > target && Date.now() < until) {
      for (let i = 0; i < 100; i++) await c.query('SELECT 1');
      await sleep(500);
      rss = await rssBytes(child.pid!);
    }
  } finally {
    await c.end();
  }
  return rss;
}
