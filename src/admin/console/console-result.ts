// What an admin command answers, and its encoding as RowDescription, DataRow and CommandComplete messages.
import { errorCodes } from '../../errors.js';
import * as be from '../../protocol/backend-messages.js';

export type CellValue = string | number | null;

export interface ConsoleColumn {
  name: string;
  type: 'text' | 'int8' | 'float8';
}

export interface ConsoleResult {
  /** Absent for commands without rows (RELOAD, PAUSE, RESUME). */
  columns?: ConsoleColumn[];
  rows?: CellValue[][];
  /** CommandComplete tag: SHOW for SHOW commands, else the command word, as PgBouncer does. */
  tag: string;
  notices?: string[];
}

const typeOids = { text: be.TypeOid.text, int8: be.TypeOid.int8, float8: be.TypeOid.float8 } as const;

export const text = (name: string): ConsoleColumn => ({ name, type: 'text' });
export const int = (name: string): ConsoleColumn => ({ name, type: 'int8' });
export const float = (name: string): ConsoleColumn => ({ name, type: 'float8' });

/** Integers go out as integers: a fractional value in an int8 column would break drivers. */
function cell(value: CellValue, column: ConsoleColumn): string | null {
  if (value === null) return null;
  if (typeof value === 'number' && column.type === 'int8') return String(Math.round(value));
  return String(value);
}

export function encodeResult(result: ConsoleResult): Buffer[] {
  const out: Buffer[] = [];
  for (const message of result.notices ?? [])
    out.push(
      be.noticeResponse({ severity: 'NOTICE', sqlstate: errorCodes.successfulCompletion.sqlstate, message }),
    );
  if (result.columns) {
    const columns = result.columns;
    out.push(be.rowDescription(columns.map((c) => ({ name: c.name, typeOid: typeOids[c.type] }))));
    for (const row of result.rows ?? []) out.push(be.dataRow(row.map((v, i) => cell(v, columns[i]))));
  }
  out.push(be.commandComplete(result.tag));
  return out;
}
