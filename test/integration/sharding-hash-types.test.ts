// Hash placement of date, timestamp, bpchar, varchar, name, bool, oid and numeric keys against PARTITION BY HASH.
//
// For each type a table partitioned by hash (modulus 3) gets a few hundred values, edge cases included; the
// partition PostgreSQL put each row in must be the shard the proxy computes from the literal as written,
// from the server's text output, and from the binary form a driver would bind (as the proxy decodes it).
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashShard, type HashKeyType } from '../../src/router/sharding/pg-hash.js';
import { boundValueText } from '../../src/frontend/rounds/param-text.js';
import { hashKeyTypeOf } from '../../src/router/sharding/key-types.js';
import { directConfig } from './helpers/proxy.js';
import { connect } from './helpers/tools.js';

const count = (n: number, f: (i: number) => string) => Array.from({ length: n }, (_, i) => f(i));
const pad2 = (n: number) => String(n).padStart(2, '0');

const dates = [
  ...count(300, (i) => {
    const y = 1 + ((i * 37) % 4100);
    return `${String(y).padStart(4, '0')}-${pad2(1 + (i % 12))}-${pad2(1 + ((i * 7) % 28))}`;
  }),
  '2000-01-01',
  '1999-12-31',
  '2000-02-29',
  '1900-03-01',
  '0001-01-01 BC',
  '0044-03-15 BC',
  '4713-11-24 BC',
  '5874897-12-31',
  'infinity',
  '-infinity',
  ' 2024-02-29 ',
];

const timestamps = [
  ...count(300, (i) => {
    const y = 1900 + ((i * 13) % 250);
    const frac = i % 3 === 0 ? '' : `.${String((i * 7919) % 1_000_000).padStart(i % 2 ? 6 : 3, '0')}`;
    const sep = i % 5 === 0 ? 'T' : ' ';
    return `${y}-${pad2(1 + (i % 12))}-${pad2(1 + (i % 28))}${sep}${pad2(i % 24)}:${pad2((i * 7) % 60)}:${pad2((i * 11) % 60)}${frac}`;
  }),
  '2000-01-01 00:00:00',
  '1999-12-31 23:59:59.999999',
  '1970-01-01',
  '2020-05-05 24:00:00',
  '2020-05-05 10:11',
  '2020-05-05 10:11:12.1234565',
  '2020-05-05 10:11:12.1234575',
  '0100-01-01 12:00:00 BC',
  'infinity',
  '-infinity',
];

const texts = [
  ...count(250, (i) => `Key ${i}${i % 3 === 0 ? ' ' : ''}${i % 5 === 0 ? 'É✓' : ''}`.slice(0, 18)),
  '',
  ' ',
  'a',
  'A',
  'abc  ',
  '  abc',
  'MiXeD CaSe',
];

const numerics = [
  ...count(250, (i) => {
    const sign = i % 4 === 0 ? '-' : '';
    const whole = String((i * 982451653) % 10 ** ((i % 12) + 1));
    const frac = i % 3 === 0 ? '' : `.${String((i * 7) % 100000).padStart(i % 7, '0')}`;
    return `${sign}${whole}${frac}`;
  }),
  '0',
  '-0',
  '0.000',
  '1',
  '1.0',
  '1.00000',
  '10000',
  '100000000',
  '0.0001',
  '0.00001',
  '12345678901234567890.12345678901234567890',
  '1e10',
  '1.5e-7',
  '-2E+3',
  'NaN',
  'Infinity',
  '-Infinity',
];

interface Case {
  sql: string;
  values: string[];
}

const cases: Case[] = [
  { sql: 'date', values: dates },
  { sql: 'timestamp', values: timestamps },
  { sql: 'timestamp(6)', values: timestamps.slice(0, 60) },
  { sql: 'text', values: texts },
  { sql: 'varchar(20)', values: texts },
  { sql: 'varchar', values: texts },
  { sql: 'name', values: texts },
  { sql: 'char(20)', values: texts },
  { sql: 'bpchar', values: texts },
  {
    sql: 'bool',
    values: ['t', 'f', 'true', 'FALSE', 'yes', 'no', 'y', 'n', 'on', 'off', 'of', '1', '0', ' True '],
  },
  {
    sql: 'oid',
    values: [
      ...count(200, (i) => String((i * 21_474_836 + 7) % 4_294_967_296)),
      '0',
      '4294967295',
      '-1',
      '-2147483648',
    ],
  },
  { sql: 'numeric', values: numerics },
  { sql: 'int4', values: [...count(200, (i) => String((i - 100) * 10_000_019)), '0', '-1'] },
];

describe('hash placement of more key types matches PARTITION BY HASH', () => {
  let client: pg.Client;
  beforeAll(async () => {
    client = await connect(directConfig('postgres'));
  });
  afterAll(async () => {
    await client.end();
  });

  for (const [n, c] of cases.entries()) {
    it(`${c.sql} keys over 3 partitions: literal, server text and binary forms`, async () => {
      const t = `pp_hash_types_${n}`;
      await client.query(`DROP TABLE IF EXISTS ${t}`);
      await client.query(`CREATE TABLE ${t} (k ${c.sql}, src text) PARTITION BY HASH (k)`);
      for (let r = 0; r < 3; r++)
        await client.query(
          `CREATE TABLE ${t}_${r} PARTITION OF ${t} FOR VALUES WITH (MODULUS 3, REMAINDER ${r})`,
        );
      await client.query(`INSERT INTO ${t} SELECT v::${c.sql}, v FROM unnest($1::text[]) v`, [c.values]);
      await client.query(`INSERT INTO ${t} VALUES (NULL, NULL)`);
      const type = await client.query<{ oid: number; typmod: number }>(
        `SELECT atttypid::int AS oid, atttypmod AS typmod FROM pg_attribute WHERE attrelid = '${t}'::regclass AND attname = 'k'`,
      );
      const keyType = hashKeyTypeOf(type.rows[0].oid, type.rows[0].typmod) as HashKeyType;
      expect(keyType).not.toBeNull();
      const { rows } = await client.query<{
        src: string | null;
        out: string | null;
        bin: Buffer | null;
        part: string;
      }>(
        `SELECT src, k::text AS out, ${sendOf(c.sql)}(k) AS bin, tableoid::regclass::text AS part FROM ${t}`,
      );
      expect(rows).toHaveLength(c.values.length + 1);
      const partitions = new Set<string>();
      const wrong: unknown[] = [];
      for (const row of rows) {
        const actual = Number(row.part.slice(-1));
        partitions.add(row.part);
        if (row.src === null) {
          // The router sends a NULL key where hash partitioning puts it: remainder 0.
          expect(actual).toBe(0);
          continue;
        }
        const binText = boundValueText(row.bin!, 0, row.bin!.length, 1, type.rows[0].oid);
        const forms = { literal: row.src, text: row.out!, binary: binText ?? '(undecoded)' };
        for (const [form, v] of Object.entries(forms)) {
          let shard: number | string;
          try {
            shard = hashShard(keyType, v, 3);
          } catch (err) {
            shard = String(err);
          }
          if (shard !== actual) wrong.push({ form, v, shard, actual });
        }
      }
      expect(wrong.slice(0, 5)).toEqual([]);
      // Values spread over every partition, so a constant answer would fail.
      expect(partitions.size).toBe(c.values.length > 20 ? 3 : partitions.size);
      await client.query(`DROP TABLE ${t}`);
    });
  }
});

function sendOf(sql: string): string {
  const base = sql.replace(/\(.*\)$/, '');
  const names: Record<string, string> = {
    date: 'date_send',
    timestamp: 'timestamp_send',
    text: 'textsend',
    varchar: 'varcharsend',
    name: 'namesend',
    char: 'bpcharsend',
    bpchar: 'bpcharsend',
    bool: 'boolsend',
    oid: 'oidsend',
    numeric: 'numeric_send',
    int4: 'int4send',
  };
  return names[base];
}
