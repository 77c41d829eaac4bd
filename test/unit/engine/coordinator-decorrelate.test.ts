// Decorrelation of coordinator statements: which correlated aggregate subqueries become joins, which never do.
import { deparseSync } from 'pgsql-deparser';
import { beforeAll, describe, expect, it } from 'vitest';
import { decorrelate } from '../../../src/engine/operators/coordinator-decorrelate.js';
import type { RelationFacts } from '../../../src/engine/operators/coordinator-reduction.js';
import type { Node } from '../../../src/router/sharding/ast-values.js';
import { loadParser, parseHere } from '../../../src/sql/parser.js';

const col = (type: string) => (name: string) => ({ name, type, collation: null });
const int = col('integer');
const relations: Record<string, RelationFacts> = {
  part: { kind: 'sharded', columns: ['p_partkey', 'p_size'].map(int) },
  partsupp: { kind: 'sharded', columns: ['ps_partkey', 'ps_suppkey', 'ps_supplycost'].map(int) },
  supplier: { kind: 'reference', columns: ['s_suppkey', 's_nationkey'].map(int) },
  region: { kind: 'reference', columns: [int('r_regionkey'), col('text')('r_name')] },
  wide: { kind: 'sharded', columns: ['w_partkey'].map(col('bigint')) },
  named: { kind: 'reference', columns: [{ name: 'n_key', type: 'text', collation: 'C' }] },
};
const lookup = (name: string) => relations[name] ?? null;

beforeAll(() => loadParser());

/** The statement's text after decorrelation, or null when it was left as it was. */
function rewrite(sql: string): string | null {
  const parsed = parseHere(sql);
  if (!parsed.ok) throw new Error('no parse');
  const stmt = parsed.statements[0] as Node;
  return decorrelate(stmt, lookup) ? deparseSync(stmt as never, { pretty: false }) : null;
}

const q2 = (sub: string, outer = 'part, partsupp', extra = '') =>
  `SELECT p_partkey FROM ${outer} WHERE p_partkey = ps_partkey AND p_size = 15 ${extra}
   AND ps_supplycost = (${sub})`;
const inner = (agg = 'min(ps_supplycost)', where = 'p_partkey = ps_partkey', tail = '') =>
  `SELECT ${agg} FROM partsupp, supplier WHERE ${where} AND s_suppkey = ps_suppkey AND s_nationkey = 1 ${tail}`;

describe('decorrelation of coordinator statements', () => {
  it("turns TPC-H Q2's correlated min into a grouped derived table joined on the key", () => {
    const sent = rewrite(q2(inner()));
    expect(sent).toContain(
      'FROM part, partsupp, ( SELECT ps_partkey AS __decorrelated_1_k, min(ps_supplycost) AS __decorrelated_1_v FROM partsupp, supplier WHERE s_suppkey = ps_suppkey AND s_nationkey = 1 GROUP BY ps_partkey ) AS __decorrelated_1 WHERE',
    );
    expect(sent).toContain('p_partkey = __decorrelated_1.__decorrelated_1_k');
    expect(sent).toContain('ps_supplycost = __decorrelated_1.__decorrelated_1_v');
    expect(sent).not.toMatch(/= \(SELECT/);
  });

  it('takes max, sum and avg, either side of any operator, qualified names and inner joins outside', () => {
    for (const agg of ['max(ps_supplycost)', 'sum(ps_supplycost)', 'avg(ps_supplycost)'])
      expect(rewrite(q2(inner(agg)))).toContain('GROUP BY ps_partkey');
    expect(
      rewrite(
        `SELECT 1 FROM part p JOIN partsupp o ON p.p_partkey = o.ps_partkey
         WHERE (SELECT max(i.ps_supplycost) FROM partsupp i WHERE i.ps_partkey = p.p_partkey) > o.ps_supplycost`,
      ),
    ).toContain('__decorrelated_1.__decorrelated_1_v > o.ps_supplycost');
  });

  it("takes arithmetic of the aggregate with a numeric literal, as TPC-H Q17's `0.2 * avg(…)`", () => {
    expect(rewrite(q2(inner('0.2 * avg(ps_supplycost)')))).toContain(
      '0.2 * avg(ps_supplycost) AS __decorrelated_1_v',
    );
    expect(rewrite(q2(inner('sum(ps_supplycost) - 1')))).toContain('GROUP BY ps_partkey');
    expect(rewrite(q2(inner('coalesce(min(ps_supplycost), 0)')))).toBeNull();
    expect(rewrite(q2(inner('min(ps_supplycost) || NULL')))).toBeNull();
    expect(rewrite(q2(inner('p_size * min(ps_supplycost)')))).toBeNull();
    expect(rewrite(q2(inner('min(ps_supplycost) * count(*)')))).toBeNull();
  });

  it('never rewrites count, which gives 0 and not NULL on an empty group', () => {
    expect(rewrite(q2(inner('count(*)')))).toBeNull();
    expect(rewrite(q2(inner('count(ps_supplycost)')))).toBeNull();
  });

  it('never rewrites under an outer join, a star, or an unknown table outside', () => {
    expect(rewrite(q2(inner(), 'part LEFT JOIN partsupp ON p_partkey = ps_partkey'))).toBeNull();
    expect(rewrite(q2(inner(), 'part, partsupp').replace('SELECT p_partkey', 'SELECT *'))).toBeNull();
    expect(rewrite(q2(inner(), 'part, partsupp, mystery'))).toBeNull();
  });

  it('never rewrites two correlations or an outer reference outside the one equality', () => {
    expect(
      rewrite(q2(inner('min(ps_supplycost)', 'p_partkey = ps_partkey AND p_size = ps_suppkey'))),
    ).toBeNull();
    expect(
      rewrite(q2(inner('min(ps_supplycost)', 'p_partkey = ps_partkey AND ps_suppkey > p_size'))),
    ).toBeNull();
    expect(rewrite(q2(inner('min(ps_supplycost + p_size)')))).toBeNull();
    expect(rewrite(q2(inner('min(ps_supplycost)', 'p_partkey = ps_partkey OR ps_suppkey = 2')))).toBeNull();
    expect(rewrite(q2(inner('min(ps_supplycost)', 'ps_suppkey = 2')))).toBeNull();
  });

  it('never rewrites a correlation in the SELECT list, LIMIT, GROUP BY, DISTINCT, ORDER BY or a nested subquery', () => {
    expect(rewrite(`SELECT (${inner()}) FROM part`)).toBeNull();
    expect(rewrite(q2(inner('min(ps_supplycost)', 'p_partkey = ps_partkey', 'LIMIT 1')))).toBeNull();
    expect(
      rewrite(q2(inner('min(ps_supplycost)', 'p_partkey = ps_partkey', 'GROUP BY ps_suppkey'))),
    ).toBeNull();
    expect(rewrite(q2(inner('min(DISTINCT ps_supplycost)')))).toBeNull();
    expect(rewrite(q2(inner('min(ps_supplycost)', 'p_partkey = ps_partkey', 'ORDER BY 1')))).toBeNull();
    expect(
      rewrite(
        q2(
          inner(
            'min(ps_supplycost)',
            'p_partkey = ps_partkey AND ps_suppkey IN (SELECT s_suppkey FROM supplier)',
          ),
        ),
      ),
    ).toBeNull();
  });

  it('never rewrites a conjunct below OR or NOT, nor keys of other types or collations', () => {
    expect(
      rewrite(`SELECT 1 FROM part, partsupp WHERE p_size = 1 OR ps_supplycost = (${inner()})`),
    ).toBeNull();
    expect(rewrite(`SELECT 1 FROM part, partsupp WHERE NOT (ps_supplycost = (${inner()}))`)).toBeNull();
    expect(
      rewrite(
        `SELECT 1 FROM wide WHERE 1 = (SELECT min(ps_supplycost) FROM partsupp WHERE ps_partkey = w_partkey)`,
      ),
    ).toBeNull();
    expect(
      rewrite(`SELECT 1 FROM named a WHERE 'x' = (SELECT max(b.n_key) FROM named b WHERE b.n_key = a.n_key)`),
    ).toBeNull();
  });

  it('never rewrites a reference it cannot place: unknown columns or another enclosing query', () => {
    expect(rewrite(q2(inner('min(ps_supplycost)', 'p_partkey = ps_partkey AND nowhere = 1')))).toBeNull();
    expect(
      rewrite(
        `SELECT 1 FROM part WHERE p_size = (SELECT min(ps_supplycost) FROM partsupp WHERE ps_partkey = part.nokey)`,
      ),
    ).toBeNull();
  });
});
