// Runs statements on shard channels and reads their answers: rows, command tags, errors.
import type { Column, Row, ShardResult } from './rows.js';
import { Backend } from '../protocol/codes.js';
import * as fe from '../protocol/frontend-messages.js';
import type { ShardChannel } from './shard-channel.js';
import { StatementError } from './statement-error.js';
import {
  decodeDataRow,
  decodeRowDescription,
  statementRound,
  type BoundParams,
  noBound,
} from './shard-wire.js';

/** A statement's answer from one shard; a null tag is an empty query. */
export interface ShardAnswer extends ShardResult {
  tag: string;
  empty: boolean;
}

function answerOf(shard: number, messages: { type: number; body: Buffer }[]): ShardAnswer {
  let columns: Column[] | null = null;
  const rows: Row[] = [];
  let tag = '';
  let empty = false;
  for (const m of messages) {
    switch (m.type) {
      case Backend.ErrorResponse: {
        const err = new StatementError(m.body);
        err.shardColumns = columns;
        throw err;
      }
      case Backend.RowDescription:
        columns = decodeRowDescription(m.body);
        break;
      case Backend.DataRow:
        rows.push(decodeDataRow(m.body));
        break;
      case Backend.CommandComplete:
        tag = m.body.toString('utf8', 0, m.body.length - 1);
        break;
      case Backend.EmptyQueryResponse:
        empty = true;
        break;
    }
  }
  return { shard, columns, rows, tag, empty };
}

/** One statement through the extended protocol (parameters and result formats passed on). */
export async function runStatement(
  channel: ShardChannel,
  sql: string,
  params: BoundParams = noBound,
  resultFormats: number[] = [],
): Promise<ShardAnswer> {
  const round = await channel.round(statementRound(sql, params, resultFormats));
  return answerOf(channel.shard, round.messages);
}

/** A simple-protocol query of the proxy's own (several statements allowed); rows of the last one. */
export async function runSimple(channel: ShardChannel, sql: string): Promise<ShardAnswer> {
  const round = await channel.round([fe.query(sql)]);
  return answerOf(channel.shard, round.messages);
}

/** Text of a value, for the proxy's own queries. */
export function textOf(v: Buffer | null): string | null {
  return v === null ? null : v.toString();
}

/** A string literal for SQL the proxy writes itself. */
export function sqlLiteral(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}
