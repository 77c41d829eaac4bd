// Test-only: builds the Statement the plugin host would hand a plugin, from SQL text parsed by the real parser.
import type { SessionView, Statement, TransactionParticipant } from '../../../../src/plugins/api.js';
import { loadParser, parseSql } from '../../../../src/sql/parser.js';

/** A client session as a plugin sees it; COMMIT and ROLLBACK are driven by the test through commit()/rollback(). */
export class TestSession implements SessionView {
  readonly database = 'app';
  readonly user = 'app';
  readonly settings = new Map<string, string>();
  inTransaction = false;
  readOnly = false;
  private participants: TransactionParticipant[] = [];

  get enlisted(): number {
    return this.participants.length;
  }

  begin(): void {
    this.inTransaction = true;
  }

  enlist(participant: TransactionParticipant): void {
    this.participants.push(participant);
  }

  async commit(): Promise<void> {
    await this.end((p) => p.commit());
  }

  async rollback(): Promise<void> {
    await this.end((p) => p.rollback());
  }

  private async end(action: (p: TransactionParticipant) => Promise<void>): Promise<void> {
    const participants = this.participants;
    this.participants = [];
    this.inTransaction = false;
    for (const p of participants) await action(p);
  }
}

export interface StatementOptions {
  params?: (string | null)[];
  session?: SessionView;
}

export async function statementFrom(sql: string, opts: StatementOptions = {}): Promise<Statement> {
  await loadParser();
  const parsed = parseSql(sql);
  if (!parsed.ok) throw new Error(parsed.error);
  if (parsed.statements.length !== 1)
    throw new Error(`expected one statement, got ${parsed.statements.length}`);
  const params = opts.params ?? [];
  return {
    sql,
    ast: parsed.statements[0],
    params,
    paramTypes: params.map(() => 0),
    resultFormats: [],
    tables: [],
    functions: ['cypher'],
    volatile: false,
    session: opts.session ?? new TestSession(),
  };
}
