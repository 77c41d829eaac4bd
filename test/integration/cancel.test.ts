// Query cancellation through the proxy: the right statement stops with 57014, nothing else is touched.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type pg from 'pg';
import Cursor from 'pg-cursor';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fe from '../../src/protocol/frontend-messages.js';
import { waitFor } from '../../src/sandbox/wait.js';
import { directConfig, startTestProxy, type TestProxy } from './helpers/proxy.js';
import { RawConnection } from './helpers/raw-client.js';
import { connect, rejection, withClient, within } from './helpers/tools.js';

let proxy: TestProxy;

beforeAll(async () => {
  proxy = await startTestProxy({ poolSize: 2 });
});

afterAll(() => proxy.close());

interface Keys {
  processID: number;
  secretKey: number;
}

const keysOf = (c: pg.Client) => c as unknown as Keys;

/** Sends a CancelRequest the way libpq does: a fresh connection carrying only the keys. */
async function sendCancel(port: number, pid: number, secret: number): Promise<void> {
  const conn = await RawConnection.connect(port);
  conn.write(fe.cancelRequest(pid, secret));
  await conn.closed;
}

/** Waits until PostgreSQL runs a statement with this marker in its text. */
async function running(marker: string): Promise<void> {
  await withClient(directConfig(), (d) =>
    waitFor(
      async () => {
        const r = await d.query(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%' || $1 || '%' AND pid <> pg_backend_pid()",
          [marker],
        );
        return r.rows[0].n > 0;
      },
      { what: `a running statement marked ${marker}`, timeoutMs: 10_000, intervalMs: 20 },
    ),
  );
}

describe('cancel', () => {
  it("cancels node-postgres' pg_sleep(30) with 57014 and the connection keeps working", async () => {
    await withClient(proxy.client(), async (c) => {
      const sleeping = rejection(c.query('SELECT pg_sleep(30) /* cancel-pg */'));
      await running('cancel-pg');
      await sendCancel(proxy.port, keysOf(c).processID, keysOf(c).secretKey);
      const err = await sleeping;
      expect(err.code).toBe('57014');
      expect(err.message).toBe('canceling statement due to user request');
      expect((await c.query('SELECT 1 AS ok')).rows).toEqual([{ ok: 1 }]);
    });
  });

  it("cancels postgres.js' query.cancel() with 57014", async () => {
    const sql = postgres(proxy.url(), { max: 1 });
    try {
      const query = sql`SELECT pg_sleep(30) /* cancel-pgjs */`;
      const outcome = query.then(
        () => null,
        (e: Error & { code?: string }) => e,
      );
      await running('cancel-pgjs');
      await query.cancel();
      const err = await outcome;
      expect(err?.code).toBe('57014');
      const [row] = await sql`SELECT 2 AS ok`;
      expect(row.ok).toBe(2);
    } finally {
      await sql.end({ timeout: 5 });
    }
  });

  it("cancels psql's statement on Ctrl-C (SIGINT)", async () => {
    const child = spawn('psql', ['-X', '-d', proxy.url(), '-c', 'SELECT pg_sleep(30) /* cancel-psql */'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await running('cancel-psql');
    child.kill('SIGINT');
    expect(await exited).toBe(1);
    expect(stderr).toContain('ERROR:  canceling statement due to user request');
  });

  it('cancels a statement that a pg-cursor is reading (Execute followed by Flush, no Sync yet)', async () => {
    try {
      await withClient(proxy.client(), async (c) => {
        const cursor = c.query(new Cursor('SELECT pg_sleep(30) /* cancel-cursor */'));
        const read = cursor.read(10).then(
          () => null,
          (e: Error & { code?: string }) => e,
        );
        await running('cancel-cursor');
        await sendCancel(proxy.port, keysOf(c).processID, keysOf(c).secretKey);
        const err = await within(read, 10_000, 'the cursor read after its cancel');
        expect(err?.code).toBe('57014');
      });
    } finally {
      await withClient(directConfig(), (d) =>
        d.query(
          "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE query LIKE '%cancel-cursor%' AND pid <> pg_backend_pid()",
        ),
      );
    }
  });

  it("does not cancel another client's statement running at the same time", async () => {
    const [a, b] = await Promise.all([connect(proxy.client()), connect(proxy.client())]);
    try {
      const victim = rejection(a.query('SELECT pg_sleep(30) /* cancel-a */'));
      const bystander = b.query("SELECT pg_sleep(1.5) /* cancel-b */, 'finished' AS state");
      await Promise.all([running('cancel-a'), running('cancel-b')]);
      await sendCancel(proxy.port, keysOf(a).processID, keysOf(a).secretKey);
      expect((await victim).code).toBe('57014');
      expect((await bystander).rows[0].state).toBe('finished');
    } finally {
      await Promise.all([a.end(), b.end()]);
    }
  });

  it('ignores a cancel with the wrong secret key or an unknown process id', async () => {
    await withClient(proxy.client(), async (c) => {
      const query = c.query("SELECT pg_sleep(1.5) /* cancel-wrong-key */, 'finished' AS state");
      await running('cancel-wrong-key');
      const { processID, secretKey } = keysOf(c);
      await sendCancel(proxy.port, processID, secretKey ^ 1);
      await sendCancel(proxy.port, processID ^ 1, secretKey);
      expect((await query).rows[0].state).toBe('finished');
    });
  });

  it("does not let an idle client's cancel hit the statement another client runs on its former server connection", async () => {
    const single = await startTestProxy({ poolSize: 1 });
    try {
      const [idle, busy] = await Promise.all([connect(single.client()), connect(single.client())]);
      try {
        const idlePid = (await idle.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
        const query = busy.query(
          "SELECT pg_sleep(1.5) /* cancel-former */, pg_backend_pid() AS pid, 'finished' AS state",
        );
        await running('cancel-former');
        await sendCancel(single.port, keysOf(idle).processID, keysOf(idle).secretKey);
        const r = await query;
        expect(r.rows[0].pid).toBe(idlePid);
        expect(r.rows[0].state).toBe('finished');
      } finally {
        await Promise.all([idle.end(), busy.end()]);
      }
    } finally {
      await single.close();
    }
  });

  it("never lets a cancel that reaches PostgreSQL late hit the next client's statement on the same connection", async () => {
    const single = await startTestProxy({ poolSize: 1 });
    try {
      const [first, next] = await Promise.all([connect(single.client()), connect(single.client())]);
      try {
        const pid = (await first.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number;
        // The backend's parent is the postmaster, which reads cancel requests.
        const postmaster = Number(/PPid:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
        const sleeping = first.query('SELECT pg_sleep(0.4) /* cancel-late */');
        await running('cancel-late');
        process.kill(postmaster, 'SIGSTOP');
        try {
          // Sent while the statement runs; PostgreSQL reads it only once the postmaster runs again.
          await sendCancel(single.port, keysOf(first).processID, keysOf(first).secretKey);
          await sleeping;
          const following = next.query("SELECT pg_sleep(0.3), 'finished' AS state");
          await new Promise((r) => setTimeout(r, 300));
          process.kill(postmaster, 'SIGCONT');
          expect((await following).rows[0].state).toBe('finished');
        } finally {
          process.kill(postmaster, 'SIGCONT');
        }
      } finally {
        await Promise.all([first.end(), next.end()]);
      }
    } finally {
      await single.close();
    }
  });
});
