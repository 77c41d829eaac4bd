// INSERT keys of date and timestamp columns: ISO spellings placed by their hash, other spellings refused (0A000).
import { beforeAll, describe, expect, it } from 'vitest';
import { loadParser, parseSql } from '../../../../src/sql/parser.js';
import { ShardMap } from '../../../../src/router/sharding/shard-map.js';
import { hashShard } from '../../../../src/router/sharding/pg-hash.js';
import { dateDays, timestampMicros } from '../../../../src/router/sharding/key-hash-input.js';
import { routeStatement, type ShardRoute } from '../../../../src/router/sharding/shard-route.js';

const map = new ShardMap(
  { tables: { events: 'd', stamped: 'at', flags: 'f' }, reference: [], default_shard: 0, algorithm: 'hash' },
  3,
);
const meta = (t: string) =>
  t === 'events'
    ? { keyType: 'date' as const, columns: ['d', 'note'] }
    : t === 'stamped'
      ? { keyType: 'timestamp' as const, columns: ['at', 'note'] }
      : t === 'flags'
        ? { keyType: 'bool' as const, columns: ['f', 'note'] }
        : undefined;

function route(sql: string, params: (string | null)[] = []): ShardRoute {
  const parsed = parseSql(sql);
  if (!parsed.ok) throw new Error(parsed.error);
  return routeStatement(parsed.statements[0], { map, meta, params: (n) => params[n - 1] });
}

beforeAll(() => loadParser());

describe('INSERT into a table sharded by a date', () => {
  it('places an ISO date, as a literal and as a parameter, on the shard of its hash', () => {
    const shard = hashShard('date', '2026-12-07', 3);
    expect(route("INSERT INTO events VALUES ('2026-12-07', 'x')")).toMatchObject({ kind: 'single', shard });
    expect(route('INSERT INTO events VALUES ($1, $2)', ['2026-12-07', 'x'])).toMatchObject({
      kind: 'single',
      shard,
    });
  });

  for (const spelling of ['12/07/2026', 'Dec 7 2026', '07.12.2026', '20261207']) {
    it(`refuses '${spelling}', asking for an ISO date rather than a range`, () => {
      const r = route(`INSERT INTO events VALUES ('${spelling}', 'x')`);
      expect(r.kind).toBe('unsupported');
      const { message, hint } = r as { message: string; hint?: string };
      expect(message).toContain('events.d');
      expect(message).toContain('ISO date (YYYY-MM-DD)');
      expect(message).toContain(spelling);
      expect(`${message} ${hint}`).not.toMatch(/range|no shard holds/);
    });
  }

  /** Statements, their parameters, and the route kind and message part each must get. */
  const refusals: [string, (string | null)[], string][] = [
    ['INSERT INTO events VALUES ($1, $2)', ['12/07/2026', 'x'], 'ISO date (YYYY-MM-DD)'],
    ["INSERT INTO events VALUES ('2026-12-07', 'a'), ('Dec 8 2026', 'b')", [], "'Dec 8 2026'"],
    ["INSERT INTO stamped VALUES ('12/07/2026 10:00', 'x')", [], 'ISO timestamp'],
    ["INSERT INTO flags VALUES ('maybe', 'x')", [], 'cannot be read as a bool value'],
  ];
  it('refuses a non-ISO date as a text parameter or in any row, a non-ISO timestamp, and names other types', () => {
    for (const [sql, params, part] of refusals) {
      const r = route(sql, params);
      expect(r.kind, sql).toBe('unsupported');
      expect((r as { message: string }).message, sql).toContain(part);
    }
  });

  it('still lets every shard answer a read or a delete by a non-ISO date', () => {
    const read = route("SELECT * FROM events WHERE d = '12/07/2026'");
    const write = route("DELETE FROM events WHERE d = 'Dec 7 2026'");
    expect([read.kind, write.kind]).toEqual(['scatter', 'multi-write']);
    expect([read, write].map((r) => (r as { shards: number[] }).shards)).toEqual([
      [0, 1, 2],
      [0, 1, 2],
    ]);
  });

  it('asks for the ISO form where a key is read outside a statement (COPY rows)', () => {
    expect(() => dateDays('12/07/2026')).toThrow(
      'cannot read "12/07/2026" as a date shard key: write it as YYYY-MM-DD',
    );
    expect(() => timestampMicros('Dec 7 2026 10:00')).toThrow('write it as YYYY-MM-DD HH:MI:SS');
  });
});
