// Decoding of the client messages the sharded session acts on (Parse, Bind, Describe, Execute, Close).
import { MessageReader } from '../../protocol/reader.js';
import type { ParamValues } from '../../router/sharding/ast-values.js';
import type { BoundParams } from './wire.js';

export interface ParseMsg {
  name: string;
  sql: string;
  types: number[];
}

export interface BindMsg {
  portal: string;
  statement: string;
  params: Omit<BoundParams, 'types'>;
  resultFormats: number[];
}

const reader = (body: Buffer) => new MessageReader(body, 0, body.length);

export function decodeParse(body: Buffer): ParseMsg {
  const r = reader(body);
  const name = r.cstring();
  const sql = r.cstring();
  const types: number[] = [];
  for (let n = r.int16(); n > 0; n--) types.push(r.int32());
  return { name, sql, types };
}

export function decodeBind(body: Buffer): BindMsg {
  const r = reader(body);
  const portal = r.cstring();
  const statement = r.cstring();
  const formats: number[] = [];
  for (let n = r.int16(); n > 0; n--) formats.push(r.int16());
  const values: (Buffer | null)[] = [];
  for (let n = r.int16(); n > 0; n--) {
    const len = r.int32();
    values.push(len < 0 ? null : Buffer.from(r.bytes(len)));
  }
  const resultFormats: number[] = [];
  for (let n = r.int16(); n > 0; n--) resultFormats.push(r.int16());
  return { portal, statement, params: { formats, values }, resultFormats };
}

/** Describe and Close: the kind ('S' statement or 'P' portal) and the name. */
export function decodeTarget(body: Buffer): { kind: string; name: string } {
  const r = reader(body);
  return { kind: String.fromCharCode(r.int8()), name: r.cstring() };
}

export function decodeExecute(body: Buffer): { portal: string } {
  return { portal: reader(body).cstring() };
}

const integerOids = new Set([20, 21, 23]);

/** Bound values as text for routing: text-format values as they are, binary integers and UUIDs decoded. */
export function paramText(bound: BoundParams): ParamValues {
  return (n) => {
    const v = bound.values[n - 1];
    if (v === undefined) return undefined;
    if (v === null) return null;
    const format = bound.formats.length === 1 ? bound.formats[0] : (bound.formats[n - 1] ?? 0);
    if (format === 0) return v.toString('utf8');
    const type = bound.types[n - 1] ?? 0;
    if ((integerOids.has(type) || type === 0) && [2, 4, 8].includes(v.length)) {
      return (
        v.length === 2 ? v.readInt16BE() : v.length === 4 ? v.readInt32BE() : v.readBigInt64BE()
      ).toString();
    }
    if (type === 2950 && v.length === 16) {
      const h = v.toString('hex');
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
    }
    return undefined;
  };
}
