// The proxy instances serving a database, as the first old primary knows them: a heartbeat row each, and the
// cutover's steps sent to them with NOTIFY; the instance running the cutover waits for every live one to pause.
import type pg from 'pg';
import type { ShardConfig, ShardingConfig } from '../config/schema.js';
import type { ServerLogin } from '../streams/stream-lock.js';
import { withClient } from './connect.js';

export const channel = 'polyproxy_reshard';

export const instancesSql = `CREATE TABLE IF NOT EXISTS polyproxy_reshard_instances (
  database text NOT NULL, instance text NOT NULL, seen timestamptz NOT NULL DEFAULT now(), ack text,
  PRIMARY KEY (database, instance))`;

/** One step of a cutover, as NOTIFY carries it. */
export interface CutoverStep {
  readonly database: string;
  readonly cutover: string;
  readonly step: 'pause' | 'switch' | 'abort';
  /** The instance running the cutover: it does not take its own steps from the channel. */
  readonly from: string;
  /** pause: the new shards and map, so each instance prepares them while it drains; and its deadline. */
  readonly shards?: readonly ShardConfig[];
  readonly sharding?: ShardingConfig;
  readonly deadline?: number;
}

/** Makes the table; two instances making it at once may collide, and the second attempt then finds it. */
export async function ensureInstances(client: pg.Client): Promise<void> {
  await client.query(instancesSql).catch(() => client.query(instancesSql));
}

export async function heartbeat(client: pg.Client, database: string, instance: string): Promise<void> {
  await client.query(
    `INSERT INTO polyproxy_reshard_instances (database, instance) VALUES ($1, $2)
     ON CONFLICT (database, instance) DO UPDATE SET seen = now()`,
    [database, instance],
  );
}

export async function acknowledge(client: pg.Client, database: string, instance: string, ack: string) {
  await client.query(
    'UPDATE polyproxy_reshard_instances SET ack = $3 WHERE database = $1 AND instance = $2',
    [database, instance, ack],
  );
}

/** The other instances of a database, seen within `timeoutMs`, and the one running the cutover. */
export class CutoverPeers {
  private peers: string[] = [];

  constructor(
    private readonly server: ServerLogin,
    private readonly database: string,
    readonly self: string,
    private readonly timeoutMs: number,
  ) {}

  private notify(step: Omit<CutoverStep, 'database' | 'from'>): Promise<void> {
    const payload: CutoverStep = { ...step, database: this.database, from: this.self };
    return withClient(this.server, async (client) => {
      await client.query('SELECT pg_notify($1, $2)', [channel, JSON.stringify(payload)]);
    });
  }

  /** Asks every live instance to pause; resolves once all of them drained, throws naming those that did not. */
  async pause(cutover: string, shards: readonly ShardConfig[], sharding: ShardingConfig, deadline: number) {
    await withClient(this.server, async (client) => {
      await ensureInstances(client);
      const { rows } = await client.query<{ instance: string }>(
        `SELECT instance FROM polyproxy_reshard_instances
         WHERE database = $1 AND instance <> $2 AND seen > now() - make_interval(secs => $3)`,
        [this.database, this.self, this.timeoutMs / 1000],
      );
      this.peers = rows.map((r) => r.instance);
    });
    if (this.peers.length === 0) return;
    await this.notify({ cutover, step: 'pause', shards, sharding, deadline });
    await withClient(this.server, async (client) => {
      for (;;) {
        const { rows } = await client.query<{ instance: string }>(
          `SELECT instance FROM polyproxy_reshard_instances
           WHERE database = $1 AND instance = ANY($2) AND ack IS DISTINCT FROM $3`,
          [this.database, this.peers, `paused ${cutover}`],
        );
        if (rows.length === 0) return;
        if (Date.now() >= deadline)
          throw new Error(
            `proxy instance(s) ${rows.map((r) => r.instance).join(', ')} did not pause in time`,
          );
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    });
  }

  /** How many other instances paused with this one. */
  get count(): number {
    return this.peers.length;
  }

  switch(cutover: string): Promise<void> {
    return this.peers.length === 0 ? Promise.resolve() : this.notify({ cutover, step: 'switch' });
  }

  abort(cutover: string): Promise<void> {
    return this.peers.length === 0 ? Promise.resolve() : this.notify({ cutover, step: 'abort' });
  }
}
