// Extended-protocol messages the sharded session sends to shards, and decoding of the shards' replies.
import type { Column, Row } from './rows.js';
import { Backend, Frontend } from '../protocol/codes.js';
import { MessageReader } from '../protocol/reader.js';
import { MessageWriter } from '../protocol/writer.js';
import type { BackendMessage } from './shard-channel.js';

/** Parameters as a client's Bind carried them, passed on to shards unchanged. */
export interface BoundParams {
  types: number[];
  formats: number[];
  values: (Buffer | null)[];
}

export const noBound: BoundParams = { types: [], formats: [], values: [] };

export function parseMessage(sql: string, types: number[], name = ''): Buffer {
  const w = new MessageWriter(Frontend.Parse, sql.length + 16).cstring(name).cstring(sql).int16(types.length);
  for (const t of types) w.int32(t);
  return w.finish();
}

export function bindMessage(params: BoundParams, resultFormats: number[]): Buffer {
  const w = new MessageWriter(Frontend.Bind, 64).cstring('').cstring('').int16(params.formats.length);
  for (const f of params.formats) w.int16(f);
  w.int16(params.values.length);
  for (const v of params.values) {
    if (v === null) w.int32(-1);
    else w.int32(v.length).bytes(v);
  }
  w.int16(resultFormats.length);
  for (const f of resultFormats) w.int16(f);
  return w.finish();
}

export function describeMessage(kind: 'S' | 'P', name = ''): Buffer {
  return new MessageWriter(Frontend.Describe).int8(kind.charCodeAt(0)).cstring(name).finish();
}

export const executeMessage = new MessageWriter(Frontend.Execute).cstring('').int32(0).finish();
export const syncMessage = Buffer.from([Frontend.Sync, 0, 0, 0, 4]);

/** One statement as a full extended-protocol round: Parse, Bind, Describe portal, Execute, Sync. */
export function statementRound(sql: string, params: BoundParams, resultFormats: number[]): Buffer[] {
  return [
    parseMessage(sql, params.types),
    bindMessage(params, resultFormats),
    describeMessage('P'),
    executeMessage,
    syncMessage,
  ];
}

export function decodeRowDescription(body: Buffer): Column[] {
  const r = new MessageReader(body, 0, body.length);
  const columns: Column[] = [];
  for (let n = r.int16(); n > 0; n--) {
    columns.push({
      name: r.cstring(),
      tableOid: r.int32(),
      attnum: r.int16(),
      typeOid: r.int32(),
      typeSize: r.int16(),
      typmod: r.int32(),
      format: r.int16(),
    });
  }
  return columns;
}

export function decodeDataRow(body: Buffer): Row {
  const r = new MessageReader(body, 0, body.length);
  const row: Row = [];
  for (let n = r.int16(); n > 0; n--) {
    const len = r.int32();
    row.push(len < 0 ? null : r.bytes(len));
  }
  return row;
}

export function encodeRowDescription(columns: Column[]): Buffer {
  const w = new MessageWriter(Backend.RowDescription, 32 + columns.length * 32).int16(columns.length);
  for (const c of columns) {
    w.cstring(c.name)
      .int32(c.tableOid)
      .int16(c.attnum)
      .int32(c.typeOid)
      .int16(c.typeSize)
      .int32(c.typmod)
      .int16(c.format);
  }
  return w.finish();
}

export function encodeDataRow(row: Row): Buffer {
  let size = 7;
  for (const v of row) size += 4 + (v?.length ?? 0);
  const out = Buffer.allocUnsafe(size);
  out[0] = Backend.DataRow;
  out.writeInt32BE(size - 1, 1);
  out.writeInt16BE(row.length, 5);
  let pos = 7;
  for (const v of row) {
    if (v === null) {
      out.writeInt32BE(-1, pos);
      pos += 4;
    } else {
      out.writeInt32BE(v.length, pos);
      v.copy(out, pos + 4);
      pos += 4 + v.length;
    }
  }
  return out;
}

/** A whole message (type, length, body) from a decoded one, to pass on to the client. */
export function encodeMessage(m: BackendMessage): Buffer {
  const out = Buffer.allocUnsafe(5 + m.body.length);
  out[0] = m.type;
  out.writeInt32BE(4 + m.body.length, 1);
  m.body.copy(out, 5);
  return out;
}

/** The fields of an ErrorResponse body by their one-letter codes. */
export function errorFields(body: Buffer): Map<string, string> {
  const r = new MessageReader(body, 0, body.length);
  const fields = new Map<string, string>();
  while (r.remaining() > 1) {
    const code = String.fromCharCode(r.int8());
    fields.set(code, r.cstring());
  }
  return fields;
}
