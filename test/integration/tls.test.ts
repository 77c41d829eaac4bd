// TLS between clients and the proxy: a configured certificate is served; without one, SSLRequest gets 'N'.
import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { promisify } from 'node:util';
import type pg from 'pg';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestProxy, type TestProxy } from './helpers/proxy.js';
import { psql, rejection, withClient } from './helpers/tools.js';

let secured: TestProxy;
let plain: TestProxy;
let certFile: string;

beforeAll(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'polyproxy-tls-'));
  certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  await promisify(execFile)('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    '/CN=localhost',
    '-days',
    '1',
    '-keyout',
    keyFile,
    '-out',
    certFile,
  ]);
  secured = await startTestProxy({ tls: { cert: certFile, key: keyFile } });
  plain = await startTestProxy();
});

afterAll(async () => {
  await Promise.all([secured?.close(), plain?.close()]);
});

const streamOf = (c: pg.Client) => (c as unknown as { connection: { stream: unknown } }).connection.stream;

describe('with tls configured', () => {
  it('serves node-postgres over TLS', async () => {
    await withClient({ ...secured.client(), ssl: { rejectUnauthorized: false } }, async (c) => {
      expect(streamOf(c)).toBeInstanceOf(tls.TLSSocket);
      expect((await c.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
      const big = await c.query('SELECT g, repeat($1, 100) AS pad FROM generate_series(1, 20000) g', ['y']);
      expect(big.rows).toHaveLength(20000);
      expect(big.rows[19999]).toEqual({ g: 20000, pad: 'y'.repeat(100) });
      const sent = 'z'.repeat(2_000_000);
      expect((await c.query('SELECT length($1::text) AS n', [sent])).rows).toEqual([{ n: 2_000_000 }]);
    });
  });

  it('serves the configured certificate to a verifying psql', async () => {
    const url = `postgresql://app:app-secret@localhost:${secured.port}/app?sslmode=verify-full&sslrootcert=${encodeURIComponent(certFile)}`;
    const r = await psql(url, ['-c', '\\conninfo', '-At', '-c', 'SELECT 41 + 1']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/SSL connection \(protocol: TLSv1\.[23]/);
    expect(r.stdout).toContain('42');
  });

  it('pipelines postgres.js queries over TLS', async () => {
    const sql = postgres(secured.url(), { ssl: { rejectUnauthorized: false }, max: 1 });
    try {
      const results = await Promise.all(Array.from({ length: 100 }, (_, i) => sql`SELECT ${i}::int AS i`));
      expect(results.map((r) => r[0].i)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    } finally {
      await sql.end({ timeout: 5 });
    }
  });

  it('still serves clients that do not ask for TLS', async () => {
    const r = await psql(`${secured.url()}?sslmode=disable`, ['-At', '-c', 'SELECT 7']);
    expect(r).toMatchObject({ code: 0, stdout: '7\n' });
  });
});

describe('without tls configured', () => {
  it('answers SSLRequest with N, so a client that requires TLS fails clearly', async () => {
    const err = await rejection(
      withClient({ ...plain.client(), ssl: { rejectUnauthorized: false } }, (c) => c.query('SELECT 1')),
    );
    expect(err.message).toBe('The server does not support SSL connections');
    const r = await psql(`${plain.url()}?sslmode=require`, ['-c', 'SELECT 1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('server does not support SSL, but SSL was required');
  });

  it('lets a client that prefers TLS fall back to plain text', async () => {
    const r = await psql(`${plain.url()}?sslmode=prefer`, ['-At', '-c', 'SELECT 8']);
    expect(r).toMatchObject({ code: 0, stdout: '8\n' });
  });
});
