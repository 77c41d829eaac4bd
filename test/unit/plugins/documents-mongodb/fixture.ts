// Test-only: the same rows as MongoDB documents and as a PostgreSQL table, for differential tests.
import { Double, Int32, Long, ObjectId, type Db } from 'mongodb';
import type pg from 'pg';

interface FixtureRow {
  name: string;
  qty: number | null;
  price: number | null;
  big: bigint | null;
  active: boolean | null;
  created: string | null;
  meta: { color?: string | null; size?: number } | null;
  tags: string[] | null;
}

/** Missing and null fields on purpose: SQL NULL must behave the same for both. */
export const fixtureRows: FixtureRow[] = [
  {
    name: 'apple',
    qty: 3,
    price: 1.5,
    big: 9007199254740993n,
    active: true,
    created: '2024-01-02T03:04:05.678Z',
    meta: { color: 'red', size: 2 },
    tags: ['fruit', 'red'],
  },
  {
    name: 'banana',
    qty: 12,
    price: 0.25,
    big: 5n,
    active: true,
    created: '2024-02-01T00:00:00Z',
    meta: { color: 'yellow', size: 3 },
    tags: ['fruit'],
  },
  {
    name: 'cherry',
    qty: null,
    price: 4.75,
    big: -7n,
    active: false,
    created: '2023-12-31T23:59:59.5Z',
    meta: { color: 'red', size: 1 },
    tags: [],
  },
  { name: 'date', qty: 7, price: null, big: null, active: null, created: null, meta: null, tags: null },
  {
    name: 'Apricot',
    qty: 3,
    price: 2,
    big: 40n,
    active: false,
    created: '2024-03-15T12:00:00Z',
    meta: { color: 'orange' },
    tags: ['fruit'],
  },
  {
    name: 'a.c%_x',
    qty: 0,
    price: -1.125,
    big: 0n,
    active: true,
    created: '2024-01-02T03:04:05Z',
    meta: { color: null, size: 9 },
    tags: ['odd'],
  },
  {
    name: '$where',
    qty: 5,
    price: 3.5,
    big: 1000000000000n,
    active: null,
    created: '2000-01-01T00:00:00.001Z',
    meta: { color: 'green', size: 2 },
    tags: ['x'],
  },
  {
    name: 'kiwi',
    qty: 3,
    price: 1.5,
    big: 2n,
    active: true,
    created: '2024-05-05T05:05:05.05Z',
    meta: { color: 'green', size: 4 },
    tags: ['fruit', 'green'],
  },
];

/** Hex ids shared by both sides, so _id compares too. */
export const fixtureIds = fixtureRows.map(
  (_, i) => new ObjectId(`65a0000000000000000000${String(i).padStart(2, '0')}`),
);

/** Null fields are left out of some documents and stored as null in others. */
export async function loadMongo(db: Db, collection: string): Promise<void> {
  await db
    .collection(collection)
    .drop()
    .catch(() => undefined);
  const docs = fixtureRows.map((row, i) => {
    const doc: Record<string, unknown> = { _id: fixtureIds[i], name: row.name };
    const put = (key: string, value: unknown, convert: (v: never) => unknown) => {
      if (value !== null) doc[key] = convert(value as never);
      else if (i % 2 === 0) doc[key] = null;
    };
    put('qty', row.qty, (v: number) => new Int32(v));
    put('price', row.price, (v: number) => new Double(v));
    put('big', row.big, (v: bigint) => Long.fromBigInt(v));
    put('active', row.active, (v: boolean) => v);
    put('created', row.created, (v: string) => new Date(v));
    put('meta', row.meta, (v: object) => v);
    put('tags', row.tags, (v: string[]) => v);
    return doc;
  });
  await db.collection(collection).insertMany(docs);
}

/** The same rows in `docs.<table>`; text sorts bytewise (COLLATE "C") as MongoDB compares strings. */
export async function loadPostgres(client: pg.Client, table: string): Promise<void> {
  await client.query('CREATE SCHEMA IF NOT EXISTS docs');
  await client.query(`DROP TABLE IF EXISTS docs.${table}`);
  await client.query(`CREATE TABLE docs.${table} (
    _id text, name text COLLATE "C", qty int4, price float8, big int8, active bool, created timestamptz, doc jsonb)`);
  for (const [i, row] of fixtureRows.entries()) {
    const doc = JSON.stringify(
      Object.fromEntries(Object.entries({ meta: row.meta, tags: row.tags }).filter(([, v]) => v !== null)),
    );
    await client.query(`INSERT INTO docs.${table} VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, [
      fixtureIds[i].toHexString(),
      row.name,
      row.qty,
      row.price,
      row.big?.toString() ?? null,
      row.active,
      row.created,
      doc,
    ]);
  }
}
