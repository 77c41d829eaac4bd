// Golden plans: every statement in test/golden/<topic>.json must explain to exactly its recorded plan, the
// operator tree the runner would run (sharded topics) or the unsharded router's choice (unsharded.json).
// Set UPDATE_GOLDEN=1 to rewrite the files after an intended change, then review the diff.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { explainRoute } from '../../../src/planner/explain.js';
import { classifySql } from '../../../src/router/classify.js';
import { ShardMap } from '../../../src/router/sharding/shard-map.js';
import { routeStatement } from '../../../src/router/sharding/shard-route.js';
import { loadParser, parseSql } from '../../../src/sql/parser.js';

const dir = new URL('../../golden/', import.meta.url);

/** The shard map every sharded golden statement runs against: three hash shards. */
const map = new ShardMap(
  {
    tables: { users: 'id', orders: 'user_id', items: 'id' },
    reference: ['countries'],
    default_shard: 0,
    algorithm: 'hash',
  },
  3,
);
const meta = (t: string) =>
  ({
    users: { keyType: 'int' as const, columns: ['id', 'name', 'country', 'score'] },
    orders: { keyType: 'int' as const, columns: ['id', 'user_id', 'amount', 'created'] },
  })[t];

interface Golden {
  query: string;
  params?: string[];
  plan: string[];
}

function explain(g: Golden): string[] {
  const parsed = parseSql(g.query);
  if (!parsed.ok) throw new Error(parsed.error);
  const stmt = parsed.statements[0];
  const params = (n: number) => g.params?.[n - 1];
  const route = routeStatement(stmt, { map, meta, params });
  const write = classifySql(g.query, { primaryFunctions: new Set() }).access === 'write';
  return explainRoute(route, stmt, { sql: g.query, params, write });
}

beforeAll(() => loadParser());

const topics = readdirSync(dir).filter((f) => f.endsWith('.json') && f !== 'unsharded.json');

it('has a golden file per topic', () => {
  expect(topics.sort()).toEqual(['copy.json', 'ddl.json', 'select.json', 'writes.json']);
});

for (const file of topics) {
  describe(`golden plans ${file}`, () => {
    const url = new URL(file, dir);
    const goldens = JSON.parse(readFileSync(url, 'utf8')) as Golden[];
    if (process.env.UPDATE_GOLDEN) {
      it('is rewritten', () => {
        const updated = goldens.map((g) => ({ ...g, plan: explain(g) }));
        writeFileSync(url, `${JSON.stringify(updated, null, 2)}\n`);
        expect(updated).toHaveLength(goldens.length);
      });
      return;
    }
    for (const g of goldens) {
      it(g.query, () => {
        expect(explain(g)).toEqual(g.plan);
      });
    }
  });
}
