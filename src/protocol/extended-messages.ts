// Decodes the extended-query messages a client sends (Parse, Bind, Describe, Execute, Close), for statements the proxy answers itself.
import { MessageReader } from './reader.js';

export interface ParseMessage {
  name: string;
  sql: string;
  paramTypes: number[];
}

export interface BindMessage {
  portal: string;
  statement: string;
  /** One format per parameter (0 text, 1 binary), expanded from PostgreSQL's 0/1/n encoding. */
  paramFormats: number[];
  params: (Buffer | null)[];
  /** As sent: empty means all text, one applies to every column, else one per column. */
  resultFormats: number[];
}

export interface TargetMessage {
  /** 'S' statement or 'P' portal. */
  kind: 'S' | 'P';
  name: string;
}

export interface ExecuteMessage {
  portal: string;
  maxRows: number;
}

/**
 * Each reads a whole message (type byte and length included), or with offset 0 its body alone; `end`
 * bounds a message that lies inside a larger buffer.
 */
function body(buf: Buffer, offset: number, end: number): MessageReader {
  return new MessageReader(buf, offset, end);
}

export function readParse(buf: Buffer, offset = 5, end = buf.length): ParseMessage {
  const r = body(buf, offset, end);
  const name = r.cstring();
  const sql = r.cstring();
  const paramTypes: number[] = [];
  for (let n = r.int16(); n > 0; n--) paramTypes.push(r.int32() >>> 0);
  return { name, sql, paramTypes };
}

export function readBind(buf: Buffer, offset = 5, end = buf.length): BindMessage {
  const r = body(buf, offset, end);
  const portal = r.cstring();
  const statement = r.cstring();
  const formats: number[] = [];
  for (let n = r.int16(); n > 0; n--) formats.push(r.int16());
  const params: (Buffer | null)[] = [];
  for (let n = r.int16(); n > 0; n--) {
    const len = r.int32();
    params.push(len < 0 ? null : Buffer.from(r.bytes(len)));
  }
  const resultFormats: number[] = [];
  for (let n = r.int16(); n > 0; n--) resultFormats.push(r.int16());
  const paramFormats = params.map((_, i) => (formats.length === 1 ? formats[0] : (formats[i] ?? 0)));
  return { portal, statement, paramFormats, params, resultFormats };
}

/** Describe and Close share this layout. */
export function readTarget(buf: Buffer, offset = 5): TargetMessage {
  const r = body(buf, offset, buf.length);
  const kind = r.int8() === 0x53 ? 'S' : 'P';
  return { kind, name: r.cstring() };
}

export function readExecute(buf: Buffer, offset = 5): ExecuteMessage {
  const r = body(buf, offset, buf.length);
  return { portal: r.cstring(), maxRows: r.int32() };
}

/** The format of result column i under a Bind's result format list. */
export function resultFormatOf(formats: readonly number[], i: number): number {
  if (formats.length === 0) return 0;
  return formats.length === 1 ? formats[0] : (formats[i] ?? 0);
}
