// Reshard tests' fixtures: databases on the shared primary standing for old and new shards, a schema with
// sharded, reference and unsharded tables, and a bounded ledger of writes whose outcome is checked afterwards.
import pg from 'pg';
import { inject } from 'vitest';
import { shardingSchema } from '../../src/config/database-schema.js';
import type { ReshardPlan } from '../../src/reshard/plan.js';
import { hashShard } from '../../src/router/sharding/pg-hash.js';
import type { ServerLogin } from '../../src/streams/stream-lock.js';

export function login(database: string): ServerLogin {
  const ctx = inject('pg');
  return {
    host: ctx.host,
    port: ctx.port,
    user: 'postgres',
    password: ctx.password,
    database,
    connectTimeoutMs: 5000,
  };
}

export async function client(database: string): Promise<pg.Client> {
  const c = new pg.Client(login(database));
  await c.connect();
  return c;
}

/** Fresh empty databases, one per shard. */
export async function createDatabases(names: readonly string[]): Promise<void> {
  const admin = await client('app');
  try {
    for (const name of names) {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.query(`CREATE DATABASE ${name}`);
    }
  } finally {
    await admin.end();
  }
}

export const schemaSql = `
CREATE SEQUENCE item_ids START 1;
CREATE TABLE items (id bigint PRIMARY KEY DEFAULT nextval('item_ids'), v int NOT NULL, note text);
CREATE INDEX items_v ON items (v);
CREATE TABLE notes (tag text PRIMARY KEY, body text);
CREATE TABLE countries (code text PRIMARY KEY, name text NOT NULL);
CREATE TABLE settings (k text PRIMARY KEY, val text);`;

/** Tags a COPY row must escape (tab, newline, backslash) and non-ASCII ones: they must still hash as PostgreSQL does. */
export const trickyTags = [
  'a\tb',
  'line\nbreak',
  'back\\slash',
  'ü-umlaut',
  'plain',
  ...Array.from({ length: 50 }, (_, i) => `tag ${i}`),
];

export const initialItems = 20_000;

/** The initial rows on the old shards, each where the old map puts it. */
export async function fill(old: pg.Client[]): Promise<void> {
  const ids = Array.from({ length: initialItems }, (_, i) => i + 1);
  for (const [shard, c] of old.entries()) {
    const mine = ids.filter((id) => oldShardOf(id, old.length) === shard);
    await c.query("INSERT INTO items SELECT id, id % 7, 'initial' FROM unnest($1::bigint[]) id", [mine]);
    const tags = trickyTags.filter((t) => hashShard('text', t, old.length) === shard);
    await c.query('INSERT INTO notes SELECT t, upper(t) FROM unnest($1::text[]) t', [tags]);
    await c.query("INSERT INTO countries VALUES ('de', 'Germany'), ('fr', 'France'), ('jp', 'Japan')");
    if (shard === 0) await c.query("INSERT INTO settings VALUES ('mode', 'live'), ('tab', E'a\\tb')");
  }
  await old[0]!.query(`SELECT setval('item_ids', ${initialItems})`);
}

export function plan(database: string, source: string[], target: string[]): ReshardPlan {
  return {
    database,
    source: source.map(login),
    sourceDefaultShard: 0,
    target: target.map(login),
    targetSharding: shardingSchema.parse({
      tables: { items: 'id', notes: 'tag' },
      reference: ['countries'],
      default_shard: 0,
    }),
  };
}

/** The old shard of an item id (the source's own hash map; one shard: 0). */
export const oldShardOf = (id: number, shards: number) => hashShard('int', BigInt(id), shards);

/**
 * Writes to the old shards as the proxy would place them, and remembers every acknowledged outcome: the value
 * of each item id that exists, none for a deleted one.
 */
export class Ledger {
  readonly expected = new Map<number, number>();
  private nextId: number;
  acknowledged = 0;

  /** Owns the initial items `from`..`to` (their v is id % 7) and the new ids from `nextId` on. */
  constructor(
    private readonly old: pg.Client[],
    from: number,
    to: number,
    nextId: number,
  ) {
    this.nextId = nextId;
    for (let id = from; id <= to; id++) this.expected.set(id, id % 7);
  }

  private on(id: number): pg.Client {
    return this.old[oldShardOf(id, this.old.length)]!;
  }

  private existing(seed: number): number | undefined {
    const keys = [...this.expected.keys()];
    return keys[seed % keys.length];
  }

  /** `ops` writes at most, stopping at the deadline; inserts, updates, deletes and two-statement transactions. */
  async run(ops: number, deadline: number, seed: number): Promise<void> {
    for (let i = 0; i < ops && Date.now() < deadline; i++) {
      const pick = (seed * 7919 + i * 104729) % 10;
      if (pick < 4) {
        const id = this.nextId++;
        await this.on(id).query('INSERT INTO items (id, v, note) VALUES ($1, $2, $3)', [id, i, `n${i}`]);
        this.expected.set(id, i);
      } else if (pick < 7) {
        const id = this.existing(seed + i * 31)!;
        await this.on(id).query('UPDATE items SET v = $2 WHERE id = $1', [id, -i]);
        this.expected.set(id, -i);
      } else if (pick < 9) {
        const id = this.existing(seed + i * 17)!;
        await this.on(id).query('DELETE FROM items WHERE id = $1', [id]);
        this.expected.delete(id);
      } else await this.transaction(i);
      this.acknowledged++;
    }
  }

  /** An insert and an update of another row on the same old shard, committed together. */
  private async transaction(i: number): Promise<void> {
    const id = this.nextId++;
    const c = this.on(id);
    const other = [...this.expected.keys()].find((k) => this.on(k) === c && k !== id)!;
    await c.query('BEGIN');
    await c.query('INSERT INTO items (id, v) VALUES ($1, $2)', [id, i]);
    await c.query('UPDATE items SET v = v + 1000000 WHERE id = $1', [other]);
    await c.query('COMMIT');
    this.expected.set(id, i);
    this.expected.set(other, this.expected.get(other)! + 1_000_000);
  }
}

/** A proxy config with one sharded database over `old` (as database `name`) and a reshard target "two" of `fresh`. */
export function reshardConfigYaml(o: {
  listen: number;
  old: string[];
  fresh: string[];
  name?: string;
  pool?: number;
  pause?: string;
  heartbeat?: string;
}): string {
  const ctx = inject('pg');
  const shard = (db: string) => `{ primary: "${ctx.host}:${ctx.port}", database: ${db} }`;
  return `
listen: 127.0.0.1:${o.listen}
log: { level: warn }
users:
  - { name: app, password: app-secret }
  - { name: ops, password: ops-secret, admin: true }
databases:
  ${o.name ?? 'app'}:
    backend: { user: postgres, password: "${ctx.password}", database: ${o.old[0]} }
    pool: { size: ${o.pool ?? 6} }
    shards: [${o.old.map(shard).join(', ')}]
    sharding:
      tables: { items: id, notes: tag }
      reference: [countries]
    reshard:
      pause_timeout: ${o.pause ?? '10s'}${o.heartbeat ? `\n      heartbeat_timeout: ${o.heartbeat}` : ''}
      targets:
        two: { shards: [${o.fresh.map(shard).join(', ')}] }
`;
}
