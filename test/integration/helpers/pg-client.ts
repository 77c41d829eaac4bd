// Runs one query on a fresh node-postgres connection, for tests that check a server answers.
import pg from 'pg';

export interface ConnectOptions {
  host: string;
  port: number;
  user: string;
  password?: string;
  database: string;
}

export async function queryOnce(opts: ConnectOptions, sql: string): Promise<Record<string, unknown>[]> {
  const client = new pg.Client(opts);
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}
