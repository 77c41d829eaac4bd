// Test-only: a plugin Statement built from SQL text with the real parser, as the host would build it.
import type { SessionView, Statement } from '../../../../src/plugins/api.js';
import { parseSql } from '../../../../src/sql/parser.js';

export interface StatementOptions {
  params?: (string | null)[];
  paramTypes?: number[];
  inTransaction?: boolean;
  readOnly?: boolean;
}

const session = (inTransaction: boolean, readOnly: boolean): SessionView => ({
  database: 'app',
  user: 'app',
  inTransaction,
  readOnly,
  settings: new Map(),
  enlist: () => undefined,
});

/** Callers must have awaited loadParser(). */
export function statement(sql: string, opts: StatementOptions = {}): Statement {
  const parsed = parseSql(sql);
  if (!parsed.ok) throw new Error(parsed.error);
  if (parsed.statements.length !== 1) throw new Error(`expected one statement: ${sql}`);
  return {
    sql,
    ast: parsed.statements[0],
    params: opts.params ?? [],
    paramTypes: opts.paramTypes ?? [],
    resultFormats: [],
    tables: [],
    functions: [],
    volatile: false,
    session: session(opts.inTransaction ?? false, opts.readOnly ?? false),
  };
}
