// How a client session reads the statement a message carries: classified once per text, for routing and tracking.
import { ownedCopy, sameBytes } from '../net/socket-input.js';
import { Frontend } from '../protocol/codes.js';
import { classifySql, type StatementInfo } from '../router/classify.js';
import { MAX_CACHED_TEXT } from '../sql/statement-budget.js';
import { cstringEnd } from './prepared-statements.js';
import { lsnCommand, type CommandInfo } from './session-commands.js';
import type { StatementForwarding } from './statement-forwarding.js';

export class StatementIntake {
  /** The last Parse's statement text (bytes) and its classification. */
  private lastParsed: { text: Buffer; info: StatementInfo } | null = null;

  constructor(
    private readonly primaryFunctions: ReadonlySet<string>,
    private readonly transactionMode: boolean,
    private readonly fwd: StatementForwarding,
  ) {}

  /** Classifies the statement a message carries (Query, Parse, or Bind/Describe of a named statement). */
  inspect(type: number, buf: Buffer, start: number, end: number): StatementInfo | null {
    switch (type) {
      case Frontend.Query: {
        const sql = buf.toString('utf8', start + 5, end - 1);
        const info = this.classify(sql);
        if (info.reason === 'deallocate') return this.fwd.deallocating(info, sql);
        const command = info.statementCount === 1 && sql.includes('polyproxy.') ? lsnCommand(sql) : undefined;
        if (!command) return info;
        const withCommand: CommandInfo = { ...info, command };
        return withCommand;
      }
      case Frontend.Parse: {
        const nameEnd = cstringEnd(buf, start + 5, end);
        const queryEnd = nameEnd < 0 ? -1 : cstringEnd(buf, nameEnd + 1, end);
        return queryEnd < 0 ? null : this.classifyParsed(buf, nameEnd + 1, queryEnd);
      }
      case Frontend.Bind: {
        const portalEnd = cstringEnd(buf, start + 5, end);
        const stmtEnd = portalEnd < 0 ? -1 : cstringEnd(buf, portalEnd + 1, end);
        if (stmtEnd < 0) return null;
        if (stmtEnd === portalEnd + 1) return this.fwd.unnamedInfo;
        return this.fwd.statements.get(buf.toString('utf8', portalEnd + 1, stmtEnd))?.info ?? null;
      }
      default:
        return null;
    }
  }

  /**
   * classify() of a Parse's text, given as its bytes. Drivers send the same unnamed Parse round after
   * round: the same bytes as the last Parse skip decoding, lexing and the cache lookup.
   */
  classifyParsed(buf: Buffer, start: number, end: number): StatementInfo {
    const last = this.lastParsed;
    if (last && sameBytes(buf, start, end, last.text)) return last.info;
    const info = this.classify(buf.toString('utf8', start, end));
    // A large text is not kept: every client could otherwise hold one of max_message_bytes.
    this.lastParsed = end - start > MAX_CACHED_TEXT ? null : { text: ownedCopy(buf, start, end), info };
    return info;
  }

  classify(sql: string): StatementInfo {
    return this.forSession(classifySql(sql, { primaryFunctions: this.primaryFunctions }));
  }

  forSession(info: StatementInfo): StatementInfo {
    // Statements that leave state in the server session pin the client: that must be the primary.
    if (this.transactionMode && info.pin && info.access === 'read') {
      return { ...info, access: 'write', reason: `session-state:${info.pin}` };
    }
    return info;
  }
}
