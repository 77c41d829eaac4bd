// Golden plans of unsharded databases: EXPLAIN ROUTE's Passthrough line for each statement in
// test/golden/unsharded.json, from the real classifier and router (a primary and a usable replica).
// Set UPDATE_GOLDEN=1 to rewrite the file after an intended change, then review the diff.
import { readFileSync, writeFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { explainPassthrough, type PassthroughTarget } from '../../../src/planner/explain-unsharded.js';
import { classifySql } from '../../../src/router/classify.js';
import { accessFor } from '../../../src/router/router.js';
import { loadParser } from '../../../src/sql/parser.js';

const file = new URL('../../golden/unsharded.json', import.meta.url);
const hosts = { primary: '127.0.0.1:5432', replica: '127.0.0.1:5433' };

interface Golden {
  query: string;
  /** SET polyproxy.route of the session, when not auto. */
  override?: 'primary' | 'replica';
  sessionPooling?: boolean;
  /** The session holds a server in an open transaction, or no server can take the statement. */
  state?: 'open-transaction' | 'no-server';
  plan: string[];
}

function targetOf(g: Golden): PassthroughTarget {
  if (g.state === 'no-server') return null;
  if (g.state === 'open-transaction')
    return { role: 'primary', host: hosts.primary, reason: 'open-transaction' };
  const info = classifySql(g.query, { primaryFunctions: new Set(['bump_counter']) });
  const { access, reason } = accessFor([info], {
    override: g.override ?? 'auto',
    sessionPooling: g.sessionPooling ?? false,
  });
  const role = access === 'write' ? 'primary' : 'replica';
  return { role, shard: 0, host: hosts[role], reason };
}

const explain = (g: Golden) => [explainPassthrough(targetOf(g))];

beforeAll(() => loadParser());

describe('golden plans unsharded.json', () => {
  const goldens = JSON.parse(readFileSync(file, 'utf8')) as Golden[];
  if (process.env.UPDATE_GOLDEN) {
    it('is rewritten', () => {
      const updated = goldens.map((g) => ({ ...g, plan: explain(g) }));
      writeFileSync(file, `${JSON.stringify(updated, null, 2)}\n`);
      expect(updated).toHaveLength(goldens.length);
    });
    return;
  }
  for (const g of goldens) {
    it(`${g.query}${g.override ? ` (route ${g.override})` : ''}${g.state ? ` (${g.state})` : ''}`, () => {
      expect(explain(g)).toEqual(g.plan);
    });
  }
});
