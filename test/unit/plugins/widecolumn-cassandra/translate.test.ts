// The widecolumn plugin's translation: SQL to CQL with bound values, refusals of scans, counts and text formats.
import cassandra from 'cassandra-driver';
import { beforeAll, describe, expect, it } from 'vitest';
import { PluginError } from '../../../../src/plugins/api.js';
import { Catalog } from '../../../../src/plugins/builtin/widecolumn-cassandra/catalog.js';
import type { ConsistencyName } from '../../../../src/plugins/builtin/widecolumn-cassandra/config.js';
import { parseCqlType } from '../../../../src/plugins/builtin/widecolumn-cassandra/cql-types.js';
import {
  WidecolumnHandler,
  type CqlPage,
  type CqlRunner,
} from '../../../../src/plugins/builtin/widecolumn-cassandra/handler.js';
import type { CqlStatement } from '../../../../src/plugins/builtin/widecolumn-cassandra/plans.js';
import { float4Text, toDriver, toText } from '../../../../src/plugins/builtin/widecolumn-cassandra/values.js';
import { loadParser } from '../../../../src/sql/parser.js';
import { statement, type StatementOptions } from '../documents-mongodb/statement.js';

/** system_schema.columns rows of `events`: PRIMARY KEY ((device, day), at, seq) WITH CLUSTERING ORDER BY (at DESC, seq ASC). */
const schemaRows: Record<string, unknown[][]> = {
  events: [
    ['device', 'partition_key', 0, 'none', 'text'],
    ['day', 'partition_key', 1, 'none', 'int'],
    ['at', 'clustering', 0, 'desc', 'timestamp'],
    ['seq', 'clustering', 1, 'asc', 'int'],
    ['value', 'regular', -1, 'none', 'double'],
    ['kind', 'regular', -1, 'none', 'text'],
    ['tags', 'regular', -1, 'none', 'frozen<list<text>>'],
  ],
  logs: [
    ['app', 'partition_key', 0, 'none', 'text'],
    ['line', 'regular', -1, 'none', 'text'],
  ],
};

class Recorder implements CqlRunner {
  readonly sent: { cql: string; params: readonly unknown[]; consistency: ConsistencyName }[] = [];
  reply: unknown[][] = [];
  rows(s: CqlStatement, consistency: ConsistencyName): Promise<unknown[][]> {
    this.sent.push({ ...s, consistency });
    return Promise.resolve(this.reply);
  }
  page(s: CqlStatement, consistency: ConsistencyName): Promise<CqlPage> {
    this.sent.push({ ...s, consistency });
    return Promise.resolve({ rows: this.reply });
  }
  batch(statements: readonly CqlStatement[], consistency: ConsistencyName): Promise<void> {
    for (const s of statements) this.sent.push({ ...s, consistency });
    return Promise.resolve();
  }
}

let runner: Recorder;
let handler: WidecolumnHandler;

beforeAll(async () => {
  await loadParser();
});

function setup(allowFiltering: string[] = []) {
  runner = new Recorder();
  const catalog = new Catalog(
    (_cql, params) => Promise.resolve(schemaRows[String(params[1])] ?? []),
    'shop',
    'wide',
    60_000,
    new Set(allowFiltering),
  );
  handler = new WidecolumnHandler(runner, catalog, 'wide', { read: 'local_one', write: 'local_quorum' });
}

async function run(sql: string, opts: StatementOptions = {}) {
  setup();
  const result = await handler.execute(statement(sql, opts));
  return { result, sent: runner.sent };
}

async function refusal(sql: string, opts: StatementOptions = {}): Promise<PluginError> {
  setup();
  const err = await handler.execute(statement(sql, opts)).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, sql).toBeInstanceOf(PluginError);
  return err as PluginError;
}

describe('SELECT to CQL', () => {
  it('reads a partition slice with bound values, the clustering order and a limit', async () => {
    const { sent } = await run(
      "SELECT seq, value FROM wide.events WHERE device = $1 AND day = 20240101 AND at >= '2024-01-01 10:00:00+00' ORDER BY at DESC, seq LIMIT 5",
      { params: ['d1'] },
    );
    expect(sent).toHaveLength(1);
    expect(sent[0].cql).toBe(
      'SELECT "seq", "value" FROM "shop"."events" WHERE "device" = ? AND "day" = ? AND "at" >= ? ORDER BY "at" DESC, "seq" ASC LIMIT ?',
    );
    expect(sent[0].params).toEqual(['d1', 20240101, new Date('2024-01-01T10:00:00Z'), 5]);
    expect(sent[0].consistency).toBe('local_one');
  });

  it('reverses the clustering order and binds IN lists as one value', async () => {
    const { sent } = await run("SELECT * FROM wide.events e WHERE e.device IN ('a', 'b') AND day = 1");
    expect(sent[0].cql).toBe(
      'SELECT "device", "day", "at", "seq", "kind", "tags", "value" FROM "shop"."events" WHERE "device" IN ? AND "day" = ?',
    );
    expect(sent[0].params).toEqual([['a', 'b'], 1]);
    const reversed = await run(
      "SELECT seq FROM wide.events WHERE device = 'a' AND day = 1 ORDER BY at, seq DESC",
    );
    expect(reversed.sent[0].cql).toMatch(/ORDER BY "at" ASC, "seq" DESC$/);
  });

  it('never splices values into the CQL text', async () => {
    const { sent } = await run(
      "SELECT seq FROM wide.events WHERE device = 'x''; DROP TABLE t; --' AND day = 1",
    );
    expect(sent[0].cql).not.toContain('DROP');
    expect(sent[0].params[0]).toBe("x'; DROP TABLE t; --");
  });

  it('refuses scans with 0A000 naming the key they need', async () => {
    const cases: [string, RegExp][] = [
      ['SELECT * FROM wide.events', /partition key \(device, day\).*"device" is not restricted/],
      ["SELECT * FROM wide.events WHERE device = 'a'", /"day" is not restricted/],
      ["SELECT * FROM wide.events WHERE device = 'a' AND day > 1", /"day" is restricted by a range/],
      ["SELECT * FROM wide.events WHERE device = 'a' AND day = 1 AND seq = 2", /"seq" needs "at" restricted/],
      ["SELECT * FROM wide.events WHERE device = 'a' AND day = 1 AND kind = 'x'", /filtering on "kind"/],
      ["SELECT * FROM wide.events WHERE device = 'a' AND day = 1 ORDER BY seq", /ORDER BY/],
      ["SELECT * FROM wide.events WHERE device = 'a' AND day = 1 ORDER BY value", /clustering order/],
      ["SELECT * FROM wide.events WHERE device = 'a' OR day = 1", /OR in WHERE/],
      ["SELECT * FROM wide.events WHERE device = 'a' AND day = 1 OFFSET 2", /OFFSET/],
    ];
    for (const [sql, message] of cases) {
      const err = await refusal(sql);
      expect(err.sqlstate, sql).toBe('0A000');
      expect(err.message, sql).toMatch(message);
    }
    expect((await refusal('SELECT * FROM wide.logs')).message).toMatch(/allow_filtering/);
  });

  it('lets a table listed in allow_filtering filter and scan', async () => {
    setup(['logs']);
    await handler.execute(statement("SELECT line FROM wide.logs WHERE line = 'x'"));
    expect(runner.sent[0].cql).toBe('SELECT "line" FROM "shop"."logs" WHERE "line" = ? ALLOW FILTERING');
  });

  it('answers = NULL and LIMIT 0 with no rows without asking Cassandra', async () => {
    const { result, sent } = await run('SELECT seq FROM wide.events WHERE device = NULL AND day = 1');
    expect([result.rows, sent]).toEqual([[], []]);
    const counted = await run('SELECT count(*), sum(seq) FROM wide.events WHERE device = $1 AND day = 1', {
      params: [null],
    });
    expect(counted.result.rows).toEqual([['0', null]]);
  });

  it('aggregates exactly: sums as varint, null without rows, avg as PostgreSQL numeric', async () => {
    setup();
    runner.reply = [[cassandra.types.Long.fromNumber(3), cassandra.types.Integer.fromString('10'), 2.5, 4]];
    const result = await handler.execute(
      statement(
        "SELECT count(seq), sum(seq), avg(seq) AS mean, min(value), max(seq) FROM wide.events WHERE device = 'a' AND day = 1",
      ),
    );
    expect(runner.sent[0].cql).toBe(
      'SELECT count("seq"), sum(cast("seq" as varint)), min("value"), max("seq") FROM "shop"."events" WHERE "device" = ? AND "day" = ?',
    );
    expect(result.columns!.map((c) => [c.name, c.typeOid])).toEqual([
      ['count', 20],
      ['sum', 20],
      ['mean', 1700],
      ['min', 701],
      ['max', 23],
    ]);
    expect(result.rows).toEqual([['3', '10', '3.3333333333333333', '2.5', '4']]);
    const refused = await refusal("SELECT stddev(value) FROM wide.events WHERE device = 'a' AND day = 1");
    expect(refused.message).toMatch(/count, min, max, sum and avg/);
    expect(
      (await refusal("SELECT seq, count(*) FROM wide.events WHERE device = 'a' AND day = 1")).sqlstate,
    ).toBe('42803');
  });
});

describe('GROUP BY', () => {
  it('groups by a primary key prefix and refuses other groupings', async () => {
    const { sent } = await run(
      "SELECT at, count(*) AS n FROM wide.events WHERE device = 'a' AND day = 1 GROUP BY device, day, at ORDER BY at",
    );
    expect(sent[0].cql).toBe(
      'SELECT "at", count(*) FROM "shop"."events" WHERE "device" = ? AND "day" = ? GROUP BY "device", "day", "at" ORDER BY "at" ASC',
    );
    const where = "FROM wide.events WHERE device = 'a' AND day = 1";
    expect((await refusal(`SELECT count(*) ${where} GROUP BY seq`)).message).toMatch(
      /prefix of the primary key/,
    );
    expect((await refusal(`SELECT count(*) ${where} GROUP BY day, device`)).sqlstate).toBe('0A000');
    expect((await refusal(`SELECT seq, count(*) ${where} GROUP BY device, day, at`)).sqlstate).toBe('42803');
    setup();
    const none = await handler.execute(
      statement(`SELECT count(*) FROM wide.events WHERE device = NULL AND day = 1 GROUP BY device, day`),
    );
    expect(none.rows).toEqual([]);
  });
});

describe('writes to CQL', () => {
  it('inserts rows (several as a batch) and reports INSERT 0 n', async () => {
    const { result, sent } = await run(
      "INSERT INTO wide.events (device, day, at, seq, tags) VALUES ('a', 1, '2024-01-01', 1, '[\"x\"]'), ('a', 1, '2024-01-01', 2, NULL)",
    );
    expect(result.command).toBe('INSERT 0 2');
    expect(sent.map((s) => s.cql)).toEqual([
      'INSERT INTO "shop"."events" ("device", "day", "at", "seq", "tags") VALUES (?, ?, ?, ?, ?)',
      'INSERT INTO "shop"."events" ("device", "day", "at", "seq", "tags") VALUES (?, ?, ?, ?, ?)',
    ]);
    expect(sent[0].params[4]).toEqual(['x']);
    expect(sent[0].consistency).toBe('local_quorum');
    expect((await refusal("INSERT INTO wide.events (device, day, at) VALUES ('a', 1, now())")).sqlstate).toBe(
      '0A000',
    );
    expect(
      (await refusal("INSERT INTO wide.events (device, day, at) VALUES ('a', 1, '2024-01-01')")).sqlstate,
    ).toBe('23502');
  });

  it('turns ON CONFLICT DO NOTHING and the cassandra directive into IF NOT EXISTS and USING', async () => {
    setup();
    runner.reply = [[true]];
    const sql = "INSERT INTO wide.logs (app, line) VALUES ('a', 'x'), ('b', 'y')";
    const result = await handler.execute(statement(`${sql} ON CONFLICT DO NOTHING`));
    expect(result.command).toBe('INSERT 0 2');
    expect(runner.sent[0].cql).toBe('INSERT INTO "shop"."logs" ("app", "line") VALUES (?, ?) IF NOT EXISTS');
    setup();
    await handler.execute({ ...statement(sql), hint: 'cassandra ttl=60 timestamp=1700000000000000' });
    expect(runner.sent[0].cql).toBe(
      'INSERT INTO "shop"."logs" ("app", "line") VALUES (?, ?) USING TTL ? AND TIMESTAMP ?',
    );
    expect(runner.sent[0].params.map(String)).toEqual(['a', 'x', '60', '1700000000000000']);
    setup();
    await handler.execute({
      ...statement("UPDATE wide.logs SET line = 'z' WHERE app = 'a'"),
      hint: 'cassandra ttl=5',
    });
    expect(runner.sent[0].cql).toBe(
      'UPDATE "shop"."logs" USING TTL ? SET "line" = ? WHERE "app" = ? IF EXISTS',
    );
    const bad = await handler
      .execute({ ...statement(sql), hint: 'cassandra ttl=soon' })
      .catch((e: unknown) => e);
    expect((bad as PluginError).sqlstate).toBe('42601');
    expect((await refusal(`${sql} ON CONFLICT (app) DO UPDATE SET line = 'q'`)).sqlstate).toBe('0A000');
  });

  it('updates one row with IF EXISTS and counts it from [applied]', async () => {
    setup();
    runner.reply = [[false]];
    const result = await handler.execute(
      statement(
        "UPDATE wide.events SET value = 2 WHERE device = 'a' AND day = 1 AND at = '2024-01-01' AND seq = 3",
      ),
    );
    expect(runner.sent[0].cql).toBe(
      'UPDATE "shop"."events" SET "value" = ? WHERE "device" = ? AND "day" = ? AND "at" = ? AND "seq" = ? IF EXISTS',
    );
    expect(result.command).toBe('UPDATE 0');
    expect(
      (await refusal("UPDATE wide.events SET value = 2 WHERE device = 'a' AND day = 1")).message,
    ).toMatch(/without "at" = value/);
    expect((await refusal("UPDATE wide.events SET seq = 2 WHERE device = 'a' AND day = 1")).sqlstate).toBe(
      '0A000',
    );
  });

  it('deletes a slice after counting it', async () => {
    setup();
    runner.reply = [[cassandra.types.Long.fromNumber(4)]];
    const result = await handler.execute(
      statement("DELETE FROM wide.events WHERE device = 'a' AND day = 1 AND at < '2024-01-01'"),
    );
    expect(runner.sent.map((s) => s.cql)).toEqual([
      'SELECT count(*) FROM "shop"."events" WHERE "device" = ? AND "day" = ? AND "at" < ?',
      'DELETE FROM "shop"."events" WHERE "device" = ? AND "day" = ? AND "at" < ?',
    ]);
    expect(result.command).toBe('DELETE 4');
    expect((await refusal("DELETE FROM wide.events WHERE kind = 'x'")).sqlstate).toBe('0A000');
  });

  it('refuses writes in a transaction block (0A000) and in a read-only transaction (25006)', async () => {
    const sql = "DELETE FROM wide.events WHERE device = 'a' AND day = 1";
    expect((await refusal(sql, { inTransaction: true })).sqlstate).toBe('0A000');
    expect((await refusal(sql, { readOnly: true })).sqlstate).toBe('25006');
  });
});

describe('describe and explain', () => {
  it('describes columns and parameter types from the table', async () => {
    setup();
    const described = await handler.describe(
      statement('SELECT at, tags FROM wide.events WHERE device = $1 AND day = $2 LIMIT $3'),
    );
    expect(described.params).toEqual([25, 23, 20]);
    expect(described.columns!.map((c) => c.typeOid)).toEqual([1184, 3802]);
  });

  it('explains the CQL and its consistency', async () => {
    setup();
    const text = await handler.explain(
      statement("SELECT seq FROM wide.events WHERE device = 'a' AND day = 1"),
    );
    expect(text).toBe(
      'SELECT "seq" FROM "shop"."events" WHERE "device" = ? AND "day" = ?  -- consistency local_one',
    );
    const refused = await handler.explain(statement('SELECT seq FROM wide.events'));
    expect(refused).toMatch(/^refused with 0A000: .*partition key \(device, day\)/);
  });
});

describe('values', () => {
  const t = (text: string) => parseCqlType(text);
  it('parses CQL type names', () => {
    expect(t('frozen<map<text, list<int>>>')).toEqual({
      name: 'map',
      args: [
        { name: 'text', args: [] },
        { name: 'list', args: [{ name: 'int', args: [] }] },
      ],
    });
  });

  it('reads PostgreSQL text into driver values and refuses bad input with 22P02/22003', () => {
    expect(toDriver('42', t('int'))).toBe(42);
    expect(String(toDriver('9223372036854775807', t('bigint')))).toBe('9223372036854775807');
    expect(toDriver('\\x00ff', t('blob'))).toEqual(Buffer.from([0, 255]));
    expect(toDriver('{"a": 1}', t('map<text, int>'))).toEqual(new Map([['a', 1]]));
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (err) {
        return (err as PluginError).sqlstate;
      }
      return 'none';
    };
    expect(code(() => toDriver('x', t('int')))).toBe('22P02');
    expect(code(() => toDriver('2147483648', t('int')))).toBe('22003');
    expect(code(() => toDriver('not-a-uuid', t('uuid')))).toBe('22P02');
  });

  it('writes driver values in PostgreSQL text form', () => {
    const { types } = cassandra;
    expect(toText(new Date('2024-01-02T03:04:05.670Z'), t('timestamp'))).toBe('2024-01-02 03:04:05.67+00');
    expect(toText(types.LocalTime.fromString('10:11:12.123456789'), t('time'))).toBe('10:11:12.123457');
    expect(toText(types.BigDecimal.fromString('1.50'), t('decimal'))).toBe('1.50');
    expect(toText(true, t('boolean'))).toBe('t');
    expect(toText(Buffer.from('hi'), t('blob'))).toBe('\\x6869');
    expect(
      toText(
        new Map([
          ['b', 2],
          ['aa', 1],
        ]),
        t('map<text, int>'),
      ),
    ).toBe('{"b": 2, "aa": 1}');
    expect(toText([1.5, 1e21], t('list<double>'))).toBe('[1.5, 1000000000000000000000]');
    expect(float4Text(Math.fround(0.1))).toBe('0.1');
    expect(float4Text(Math.fround(1234567))).toBe('1.234567e+06');
  });
});
