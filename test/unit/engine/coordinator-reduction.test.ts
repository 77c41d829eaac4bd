// The semi-join reduction of coordinator statements: which shapes get a key filter, which never do.
import { deparseSync } from 'pgsql-deparser';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  addKeyFilter,
  reductionsOf,
  type RelationFacts,
} from '../../../src/engine/operators/coordinator-reduction.js';
import type { Node } from '../../../src/router/sharding/ast-values.js';
import { loadParser, parseHere } from '../../../src/sql/parser.js';

const int = (name: string) => ({ name, type: 'bigint', collation: null });
const relations: Record<string, RelationFacts> = {
  lineitem: { kind: 'sharded', columns: ['l_orderkey', 'l_suppkey', 'l_partkey'].map(int) },
  customer: { kind: 'sharded', columns: ['c_custkey', 'c_nationkey'].map(int) },
  supplier: { kind: 'reference', columns: ['s_suppkey', 's_nationkey'].map(int) },
  nation: {
    kind: 'reference',
    columns: [int('n_nationkey'), int('n_regionkey'), { name: 'n_name', type: 'text', collation: null }],
  },
  region: {
    kind: 'reference',
    columns: [int('r_regionkey'), { name: 'r_name', type: 'text', collation: null }],
  },
  other: { kind: 'other', columns: ['o_key'].map(int) },
  narrow: { kind: 'reference', columns: [{ name: 'n_key', type: 'integer', collation: null }] },
};
const lookup = (name: string) => relations[name] ?? null;

beforeAll(() => loadParser());

function stmtOf(sql: string): Node {
  const parsed = parseHere(sql);
  if (!parsed.ok) throw new Error('no parse');
  return parsed.statements[0] as Node;
}

const sqlOf = (node: Node) => deparseSync(node as never, { pretty: false });

/** The key queries of a statement, and its text with each filter added for the keys {1,2}. */
function reduce(sql: string): { keys: string[]; sent: string } {
  const stmt = stmtOf(sql);
  const reductions = reductionsOf(stmt, lookup);
  const typeName = (
    ((stmtOf('SELECT NULL::bigint[]').SelectStmt as Node).targetList as Node[])[0].ResTarget as Node
  ).val as Node;
  for (const r of reductions) addKeyFilter(r, ['1', '2'], (typeName.TypeCast as Node).typeName as Node);
  return { keys: reductions.map((r) => sqlOf(r.keySql)), sent: sqlOf(stmt) };
}

describe('semi-join reduction', () => {
  it('filters a sharded column joined to a chain of filtered reference tables', () => {
    const { keys, sent } = reduce(
      `SELECT count(*) FROM lineitem, supplier, nation, region
       WHERE l_suppkey = s_suppkey AND s_nationkey = n_nationkey AND n_regionkey = r_regionkey AND r_name = 'ASIA'`,
    );
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatch(/^SELECT DISTINCT s_suppkey FROM supplier, nation, region WHERE/);
    expect(keys[0]).toContain("r_name = 'ASIA'");
    expect(keys[0]).toContain('s_suppkey IS NOT NULL');
    expect(keys[0]).toContain('LIMIT 10001');
    expect(sent).toContain(`AND l_suppkey = ANY (CAST('{"1","2"}' AS bigint[]))`);
  });

  it('takes an OR across two copies of a table apart into each copy’s own restriction', () => {
    const { keys } = reduce(
      `SELECT 1 FROM lineitem l JOIN supplier s ON l.l_suppkey = s.s_suppkey JOIN nation n1 ON s.s_nationkey = n1.n_nationkey,
       customer c JOIN nation n2 ON c.c_nationkey = n2.n_nationkey
       WHERE (n1.n_name = 'FRANCE' AND n2.n_name = 'GERMANY') OR (n1.n_name = 'GERMANY' AND n2.n_name = 'FRANCE')`,
    );
    expect(keys).toHaveLength(2);
    expect(keys[0]).toContain("n1.n_name = 'FRANCE' OR n1.n_name = 'GERMANY'");
    expect(keys[0]).not.toContain('n2');
  });

  it('reduces inside subqueries on their own, and the preserved side of an outer join', () => {
    const { keys } = reduce(
      `SELECT * FROM customer c LEFT JOIN other o ON o.o_key = c.c_custkey
       WHERE c.c_nationkey = (SELECT n_nationkey FROM nation WHERE n_name = 'X')
         AND EXISTS (SELECT 1 FROM lineitem, supplier WHERE l_suppkey = s_suppkey AND s_nationkey = 3)`,
    );
    expect(keys).toEqual([
      expect.stringContaining('SELECT DISTINCT s_suppkey FROM supplier WHERE s_nationkey = 3'),
    ]);
    const preserved = reduce(
      `SELECT * FROM customer c JOIN nation n ON c.c_nationkey = n.n_nationkey LEFT JOIN other o ON o.o_key = c.c_custkey WHERE n.n_name = 'X'`,
    );
    expect(preserved.keys).toHaveLength(1);
  });

  it.each([
    [
      'the nullable side of an outer join',
      'SELECT * FROM lineitem LEFT JOIN supplier ON l_suppkey = s_suppkey',
    ],
    ['the other nullable side', 'SELECT * FROM supplier RIGHT JOIN lineitem ON l_suppkey = s_suppkey'],
    [
      'a full join',
      'SELECT * FROM lineitem FULL JOIN supplier ON l_suppkey = s_suppkey WHERE s_nationkey = 1',
    ],
    [
      'an equality under OR',
      'SELECT * FROM lineitem, supplier WHERE l_suppkey = s_suppkey OR s_nationkey = 1',
    ],
    ['an equality under NOT', 'SELECT * FROM lineitem, supplier WHERE NOT (l_suppkey <> s_suppkey)'],
    [
      'an outer reference',
      'SELECT * FROM supplier WHERE EXISTS (SELECT 1 FROM lineitem WHERE l_suppkey = s_suppkey)',
    ],
    ['an unconfigured table', 'SELECT * FROM lineitem, other WHERE l_suppkey = o_key'],
    ['columns of different types', 'SELECT * FROM lineitem, narrow WHERE l_suppkey = n_key'],
    [
      'a CTE named like a reference table',
      'WITH supplier AS (SELECT 1 AS s_suppkey) SELECT * FROM lineitem l, supplier s WHERE l.l_suppkey = s.s_suppkey',
    ],
    [
      'an unqualified column beside a subquery',
      'SELECT * FROM lineitem, supplier, (SELECT 1 AS x) q WHERE l_suppkey = s_suppkey',
    ],
    [
      'an unfiltered reference table',
      'SELECT * FROM lineitem, supplier, nation WHERE l_suppkey = s_suppkey AND s_nationkey = n_nationkey',
    ],
    [
      'a correlated subquery',
      `SELECT * FROM customer WHERE c_custkey = (SELECT min(l_orderkey) FROM lineitem, supplier
         WHERE l_suppkey = s_suppkey AND s_nationkey = 1 AND l_partkey = c_custkey)`,
    ],
    [
      'a USING join',
      'SELECT * FROM lineitem JOIN supplier ON l_suppkey = s_suppkey JOIN nation USING (n_nationkey)',
    ],
  ])('never filters through %s', (_, sql) => {
    expect(reduce(sql).keys).toEqual([]);
  });

  it('keeps parameters, subqueries and functions out of the key query (fewer filters: more keys, never fewer)', () => {
    const { keys } = reduce(
      `SELECT * FROM lineitem, supplier WHERE l_suppkey = s_suppkey AND s_nationkey = $1
       AND s_nationkey IN (SELECT 1) AND s_nationkey = random() AND s_suppkey > 5`,
    );
    expect(keys).toEqual([
      'SELECT DISTINCT s_suppkey FROM supplier WHERE s_suppkey > 5 AND s_suppkey IS NOT NULL LIMIT 10001',
    ]);
  });

  it('writes key values with quotes and backslashes as array elements', () => {
    const stmt = stmtOf('SELECT * FROM lineitem, supplier WHERE l_suppkey = s_suppkey AND s_nationkey = 1');
    const [r] = reductionsOf(stmt, lookup);
    const cast = ((stmtOf('SELECT NULL::text[]').SelectStmt as Node).targetList as Node[])[0];
    const typeName = (((cast.ResTarget as Node).val as Node).TypeCast as Node).typeName as Node;
    addKeyFilter(r, ['a"b', 'c\\d', "e'f"], typeName);
    const sent = sqlOf(stmt);
    const back = parseHere(sent);
    const where = back.ok && ((back.statements[0].SelectStmt as Node).whereClause as Node);
    const any = (((where as Node).BoolExpr as Node).args as Node[]).at(-1)!.A_Expr as Node;
    const text = ((any.rexpr as Node).TypeCast as Node).arg as Node;
    expect(((text.A_Const as Node).sval as Node).sval).toBe('{"a\\"b","c\\\\d","e\'f"}');
  });
});
