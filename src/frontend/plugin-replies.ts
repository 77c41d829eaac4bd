// The messages the proxy writes for a plugin's statements, and the parameter text it hands the plugin.
import { errorCodes } from '../errors.js';
import type { ResultColumn } from '../plugins/api.js';
import { Backend } from '../protocol/codes.js';
import { binaryToText, textToBinary } from '../protocol/binary-values.js';
import { resultFormatOf } from '../protocol/extended-messages.js';
import { Oid } from '../protocol/type-oids.js';
import { MessageWriter } from '../protocol/writer.js';

/** An error for the client from a plugin call: its own SQLSTATE, or XX000 naming the plugin. */
export interface ClientError {
  sqlstate: string;
  message: string;
  hint?: string;
}

export function paramText(value: Buffer | null, format: number, oid: number): string | null {
  if (value === null) return null;
  if (format === 0) return value.toString('utf8');
  const text = binaryToText(value, oid);
  if (text === undefined) {
    throw {
      sqlstate: errorCodes.featureNotSupported.sqlstate,
      message: `binary parameters of type ${oid} are not supported for statements answered by a plugin`,
      hint: 'send this parameter in text format',
    } satisfies ClientError;
  }
  return text;
}

export function rowDescription(columns: readonly ResultColumn[], formats: readonly number[]): Buffer {
  const w = new MessageWriter(Backend.RowDescription, 32 + columns.length * 32).int16(columns.length);
  columns.forEach((c, i) => {
    w.cstring(c.name)
      .int32(0)
      .int16(0)
      .int32(c.typeOid)
      .int16(-1)
      .int32(c.typeModifier ?? -1)
      .int16(resultFormatOf(formats, i));
  });
  return w.finish();
}

export function dataRow(
  row: readonly (string | null)[],
  columns: readonly ResultColumn[],
  formats: readonly number[],
  plugin: string,
): Buffer {
  const w = new MessageWriter(Backend.DataRow, 16 + row.length * 16).int16(row.length);
  row.forEach((value, i) => {
    if (value === null) {
      w.int32(-1);
      return;
    }
    const oid = columns[i]?.typeOid ?? Oid.text;
    const bytes = resultFormatOf(formats, i) === 1 ? textToBinary(value, oid) : Buffer.from(value, 'utf8');
    if (!bytes) {
      throw {
        sqlstate: errorCodes.featureNotSupported.sqlstate,
        message: `plugin "${plugin}" cannot send type ${oid} in binary format`,
        hint: 'ask for text results',
      } satisfies ClientError;
    }
    w.int32(bytes.length).bytes(bytes);
  });
  return w.finish();
}

export function parameterDescription(types: readonly number[]): Buffer {
  const w = new MessageWriter(Backend.ParameterDescription, 8 + types.length * 4).int16(types.length);
  for (const t of types) w.int32(t);
  return w.finish();
}

export const portalSuspended = new MessageWriter(Backend.PortalSuspended).finish();
