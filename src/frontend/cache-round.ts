// One round of client messages (a Query, or Parse/Bind/Execute up to Sync) seen as one cacheable read, and its answer from a stored result.
import type { EncodedResult, SessionView, Statement } from '../plugins/api.js';
import * as be from '../protocol/backend-messages.js';
import { binaryToText } from '../protocol/binary-values.js';
import { Frontend, TxStatus } from '../protocol/codes.js';
import { readBind, readExecute, readParse, readTarget } from '../protocol/extended-messages.js';
import type { StatementInfo } from '../router/classify.js';
import { parseSql } from '../sql/parser.js';

/** A session's named statements, as the cache needs them: each one's Parse message and classification. */
export interface StatementLookup {
  get(name: string): { readonly parse: Buffer; readonly info: StatementInfo | null } | undefined;
}

export interface RoundMessage {
  type: number;
  buf: Buffer;
  info: StatementInfo | null;
}

/** A read whose result a plugin may have: one plain SELECT, no volatile call. */
export function mayBeCached(info: StatementInfo | null): boolean {
  return (
    info !== null &&
    info.access === 'read' &&
    info.reason === 'read-only-select' &&
    info.statementCount === 1 &&
    info.objects !== undefined &&
    !info.objects.volatile &&
    info.hint === undefined
  );
}

/** How many queued messages make up the round that starts the queue: 0 while its Sync has not arrived. */
export function roundLength(queue: readonly RoundMessage[]): number {
  if (queue.length === 0) return 0;
  if (queue[0].type === Frontend.Query) return 1;
  const sync = queue.findIndex((m) => m.type === Frontend.Sync || m.type === Frontend.Query);
  return sync < 0 || queue[sync].type === Frontend.Query ? 0 : sync + 1;
}

/**
 * The statement of a round that reads and could be answered from elsewhere, or null: one Execute
 * without a row limit, no Describe of a statement (its parameter types would need the server).
 */
export function cacheableStatement(
  round: readonly RoundMessage[],
  statements: StatementLookup,
  unnamed: { sql: string; paramTypes: number[] } | null,
  session: SessionView,
): Statement | null {
  if (round.length === 1 && round[0].type === Frontend.Query) {
    const sql = round[0].buf.toString('utf8', 5, round[0].buf.length - 1);
    return statementOf(sql, round[0].info, [], [], [], session);
  }
  let parsed: { sql: string; paramTypes: number[] } | null = null;
  let info: StatementInfo | null = null;
  let params: (string | null)[] | null = null;
  let resultFormats: number[] = [];
  let executes = 0;
  for (const m of round) {
    switch (m.type) {
      case Frontend.Parse: {
        const parse = readParse(m.buf);
        if (parsed) return null;
        parsed = { sql: parse.sql, paramTypes: parse.paramTypes };
        info = m.info;
        break;
      }
      case Frontend.Bind: {
        const bind = readBind(m.buf);
        if (params || bind.portal !== '') return null;
        if (bind.statement !== '') {
          const stmt = statements.get(bind.statement);
          if (!stmt || parsed) return null;
          const parse = readParse(stmt.parse);
          parsed = { sql: parse.sql, paramTypes: parse.paramTypes };
          info = stmt.info;
        } else {
          parsed ??= unnamed;
        }
        if (!parsed) return null;
        const types = parsed.paramTypes;
        params = [];
        for (let i = 0; i < bind.params.length; i++) {
          const value = bind.params[i];
          if (value === null || bind.paramFormats[i] === 0) params.push(value?.toString('utf8') ?? null);
          else {
            const text = binaryToText(value, types[i] ?? 0);
            if (text === undefined) return null;
            params.push(text);
          }
        }
        resultFormats = bind.resultFormats;
        break;
      }
      case Frontend.Describe:
        if (readTarget(m.buf).kind === 'S') return null;
        break;
      case Frontend.Execute:
        if (readExecute(m.buf).maxRows !== 0 || readExecute(m.buf).portal !== '') return null;
        executes++;
        break;
      case Frontend.Sync:
        break;
      default:
        return null;
    }
  }
  if (executes !== 1 || !parsed || !params) return null;
  return statementOf(parsed.sql, info, params, parsed.paramTypes, resultFormats, session);
}

function statementOf(
  sql: string,
  info: StatementInfo | null,
  params: (string | null)[],
  paramTypes: number[],
  resultFormats: number[],
  session: SessionView,
): Statement | null {
  if (!mayBeCached(info) || info!.objects!.tables.length === 0) return null;
  const parsed = parseSql(sql);
  if (!parsed.ok || parsed.statements.length !== 1) return null;
  const objects = info!.objects!;
  return {
    sql,
    ast: parsed.statements[0],
    params,
    paramTypes,
    resultFormats,
    ...(info!.directive !== undefined && { hint: info!.directive }),
    tables: objects.tables,
    functions: objects.functions,
    volatile: objects.volatile,
    session,
  };
}

/**
 * Whether a stored result can stand in for the round: a result kept from a round without Describe has no
 * RowDescription, and cannot answer a Query or a Describe (that would be NoData before rows).
 */
export function answersRound(round: readonly RoundMessage[], result: EncodedResult): boolean {
  if (result.rowDescription !== null || result.rowCount === 0) return true;
  return !round.some((m) => m.type === Frontend.Query || m.type === Frontend.Describe);
}

/** The replies PostgreSQL would have sent for the round, built from a stored result. */
export function answerRound(round: readonly RoundMessage[], result: EncodedResult): Buffer {
  const parts: Buffer[] = [];
  const rows = () => {
    parts.push(result.dataRows, be.commandComplete(result.command));
  };
  for (const m of round) {
    switch (m.type) {
      case Frontend.Query:
        if (result.rowDescription) parts.push(result.rowDescription);
        rows();
        parts.push(be.readyForQuery(TxStatus.Idle));
        break;
      case Frontend.Parse:
        parts.push(be.parseComplete);
        break;
      case Frontend.Bind:
        parts.push(be.bindComplete);
        break;
      case Frontend.Describe:
        parts.push(result.rowDescription ?? be.noData);
        break;
      case Frontend.Execute:
        rows();
        break;
      case Frontend.Sync:
        parts.push(be.readyForQuery(TxStatus.Idle));
        break;
    }
  }
  return Buffer.concat(parts);
}
