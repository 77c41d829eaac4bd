// Cache rounds: which client rounds a plugin may answer, and the replies written for a stored result.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  answerRound,
  cacheableStatement,
  roundLength,
  type RoundMessage,
} from '../../../src/frontend/cache-round.js';
import { PreparedStatements } from '../../../src/frontend/prepared-statements.js';
import type { SessionView } from '../../../src/plugins/api.js';
import { classifySql } from '../../../src/router/classify.js';
import { loadParser } from '../../../src/sql/parser.js';
import * as w from '../fixtures/wire.js';
import { MessageFramer } from '../../../src/protocol/framer.js';

const opts = { primaryFunctions: new Set<string>() };
const session: SessionView = {
  database: 'app',
  user: 'app',
  inTransaction: false,
  readOnly: false,
  settings: new Map(),
  enlist: () => {},
};

beforeAll(() => loadParser());

/** A round as the session queues it: messages with the classification of their statement. */
function round(...messages: Buffer[]): RoundMessage[] {
  let info = null as ReturnType<typeof classifySql> | null;
  return messages.map((buf) => {
    if (buf[0] === 0x51) info = classifySql(buf.toString('utf8', 5, buf.length - 1), opts);
    if (buf[0] === 0x50) info = classifySql(buf.toString('utf8', 6, buf.indexOf(0, 6)), opts);
    return { type: buf[0], buf, info: buf[0] === 0x51 || buf[0] === 0x50 || buf[0] === 0x42 ? info : null };
  });
}

const select = 'SELECT name FROM users WHERE id = $1';
const statements = new PreparedStatements();

describe('roundLength', () => {
  it('is one for a Query, up to Sync for extended messages, and 0 while the Sync has not come', () => {
    expect(roundLength(round(w.query('SELECT 1')))).toBe(1);
    const extended = round(
      w.parse('', select),
      w.bind({ portal: '', statement: '', values: ['1'] }),
      w.execute(''),
    );
    expect(roundLength(extended)).toBe(0);
    expect(roundLength([...extended, ...round(w.sync())])).toBe(4);
  });
});

describe('cacheableStatement', () => {
  it('takes a plain SELECT with its parameters and result formats', () => {
    const r = round(
      w.parse('', select, [23]),
      w.bind({ portal: '', statement: '', values: ['7'], resultFormats: [0] }),
      w.describe('P', ''),
      w.execute(''),
      w.sync(),
    );
    const stmt = cacheableStatement(r, statements, null, session);
    expect(stmt).toMatchObject({
      sql: select,
      params: ['7'],
      paramTypes: [23],
      resultFormats: [0],
      tables: ['users'],
    });
  });

  it('refuses what a stored result cannot answer', () => {
    const refused = [
      round(w.query('SELECT now()')),
      round(w.query("INSERT INTO users VALUES (1, 'x')")),
      round(w.query('SELECT 1')),
      round(w.parse('', select), w.describe('S', ''), w.sync()),
      round(
        w.parse('', select),
        w.bind({ portal: '', statement: '', values: ['1'] }),
        w.execute('', 10),
        w.sync(),
      ),
      round(
        w.parse('named', select),
        w.bind({ portal: '', statement: 'named', values: ['1'] }),
        w.execute(''),
        w.sync(),
      ),
    ];
    for (const r of refused) expect(cacheableStatement(r, statements, null, session)).toBeNull();
  });
});

describe('answerRound', () => {
  it('writes the replies PostgreSQL would have written, in order', () => {
    const r = round(
      w.parse('', select),
      w.bind({ portal: '', statement: '', values: ['7'] }),
      w.describe('P', ''),
      w.execute(''),
      w.sync(),
    );
    const rowDescription = w.rowDescription([{ name: 'name', typeOid: 25 }]);
    const rows = Buffer.concat([w.dataRow(['ann'])]);
    const out = answerRound(r, { rowDescription, dataRows: rows, rowCount: 1, command: 'SELECT 1' });
    const types: string[] = [];
    new MessageFramer(1 << 20).feed(out, (type) => types.push(String.fromCharCode(type)));
    expect(types).toEqual(['1', '2', 'T', 'D', 'C', 'Z']);
    const simple = answerRound(round(w.query('SELECT name FROM users')), {
      rowDescription,
      dataRows: rows,
      rowCount: 1,
      command: 'SELECT 1',
    });
    const simpleTypes: string[] = [];
    new MessageFramer(1 << 20).feed(simple, (type) => simpleTypes.push(String.fromCharCode(type)));
    expect(simpleTypes).toEqual(['T', 'D', 'C', 'Z']);
  });
});
