// Hash placement agrees with PostgreSQL's own PARTITION BY HASH for thousands of keys of each key type.
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashShard, type HashKeyType } from '../../src/router/sharding/pg-hash.js';
import { directConfig } from './helpers/proxy.js';
import { connect } from './helpers/tools.js';

const types: { sql: string; type: HashKeyType; keys: () => string[] }[] = [
  { sql: 'int2', type: 'int', keys: () => range(-2000, 2000, (i) => String(i * 8)) },
  { sql: 'int4', type: 'int', keys: () => range(-2000, 2000, (i) => String(i * 1_000_003)) },
  {
    sql: 'int8',
    type: 'int',
    keys: () => [
      ...range(-1500, 1500, (i) => String(BigInt(i) * 6_700_417_000_003n)),
      '9223372036854775807',
      '-9223372036854775808',
    ],
  },
  {
    sql: 'text',
    type: 'text',
    keys: () => range(0, 3000, (i) => 'k'.repeat(i % 30) + String(i) + (i % 7 === 0 ? 'é✓' : '')),
  },
  { sql: 'uuid', type: 'uuid', keys: () => range(0, 3000, () => randomUUID()) },
];

function range(from: number, to: number, f: (i: number) => string): string[] {
  return Array.from({ length: to - from }, (_, i) => f(from + i));
}

describe('hash placement matches satisfies_hash_partition', () => {
  let client: pg.Client;
  beforeAll(async () => {
    client = await connect(directConfig('postgres'));
  });
  afterAll(async () => {
    await client.end();
  });

  for (const t of types) {
    for (const shards of [2, 3, 5]) {
      it(`${t.sql} keys over ${shards} shards`, async () => {
        const parent = `pp_hash_${t.sql}_${shards}`;
        await client.query(`DROP TABLE IF EXISTS ${parent}`);
        await client.query(`CREATE TABLE ${parent} (k ${t.sql}) PARTITION BY HASH (k)`);
        const keys = t.keys();
        const { rows } = await client.query<{ k: string; shard: number }>(
          `SELECT k::text AS k, (SELECT i FROM generate_series(0, $2::int - 1) i
             WHERE satisfies_hash_partition('${parent}'::regclass, $2::int, i, k)) AS shard
           FROM unnest($1::${t.sql}[]) k`,
          [keys, shards],
        );
        expect(rows).toHaveLength(keys.length);
        const wrong = rows.filter((r) => hashShard(t.type, r.k, shards) !== r.shard);
        expect(wrong.slice(0, 3)).toEqual([]);
        await client.query(`DROP TABLE ${parent}`);
      });
    }
  }
});
