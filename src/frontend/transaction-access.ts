// Whether a client's transaction is read-only as PostgreSQL decides it (the block's access mode, else the session default), for plugins.
import type { StatementInfo } from '../router/statement-info.js';
import { parseSql } from '../sql/parser.js';

/**
 * Follows what the client sent: BEGIN / START TRANSACTION modes, SET TRANSACTION and transaction_read_only
 * inside a block, and default_transaction_read_only from SET, SET SESSION CHARACTERISTICS or the startup
 * options. Defaults set on the server (ALTER ROLE / DATABASE ... SET, postgresql.conf) are not seen.
 */
export class TransactionAccess {
  /** The open block's access mode: decided at BEGIN from its modes or the default, changed by SET TRANSACTION. */
  private blockReadOnly = false;

  /** Follows a statement the session is about to run; `inBlock` says whether a block was open before it. */
  see(info: StatementInfo, inBlock: boolean, settings: ReadonlyMap<string, string>): void {
    const list = info.transactions;
    if (!list) return;
    let open = inBlock;
    for (const tx of list) {
      if (tx.kind === 'begin') {
        // PostgreSQL ignores a BEGIN inside a block (with a warning), its modes too.
        if (!open) this.blockReadOnly = tx.readOnly || (!tx.readWrite && defaultReadOnly(settings));
        open = true;
      } else if (tx.kind === 'commit' || tx.kind === 'rollback') {
        // AND CHAIN starts the next transaction with the same modes.
        if (!tx.chain) open = false;
      } else if (open && (tx.readOnly || tx.readWrite)) {
        this.blockReadOnly = tx.readOnly;
      }
    }
  }

  /** Whether the transaction a statement runs in now is read-only. */
  readOnly(inBlock: boolean, settings: ReadonlyMap<string, string>): boolean {
    return inBlock ? this.blockReadOnly : defaultReadOnly(settings);
  }
}

/** PostgreSQL's spellings of true for a boolean setting. */
const trueWords = /^\s*(on|t|tr|tru|true|y|ye|yes|1)\s*$/i;

/** default_transaction_read_only as the client set it; settings hold replayable SQL, so the value is read back from it. */
export function defaultReadOnly(settings: ReadonlyMap<string, string>): boolean {
  const sql = settings.get('default_transaction_read_only');
  return sql !== undefined && trueWords.test(settingValue(sql) ?? '');
}

interface Const {
  A_Const?: { sval?: { sval?: string }; ival?: { ival?: number } };
}

/** The value of `SET name TO value` or of `SELECT pg_catalog.set_config('name', 'value', false)` (the parse is cached). */
function settingValue(sql: string): string | undefined {
  const parsed = parseSql(sql);
  const stmt = parsed.ok && parsed.statements.length === 1 ? parsed.statements[0] : undefined;
  const set = stmt?.VariableSetStmt as { args?: Const[] } | undefined;
  const select = stmt?.SelectStmt as
    { targetList?: { ResTarget?: { val?: { FuncCall?: { args?: Const[] } } } }[] } | undefined;
  const value = (set?.args ?? select?.targetList?.[0]?.ResTarget?.val?.FuncCall?.args?.slice(1))?.[0]
    ?.A_Const;
  if (!value) return undefined;
  return value.sval?.sval ?? String(value.ival?.ival ?? 0);
}
