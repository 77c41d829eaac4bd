// Builders for the server-side messages the proxy answers with itself (auth, status, errors, results).
import { AuthType, Backend } from './codes.js';
import { MessageWriter } from './writer.js';

const fixed = (type: number, body: number[] = []) => Buffer.from([type, 0, 0, 0, 4 + body.length, ...body]);

export const parseComplete = fixed(Backend.ParseComplete);
export const bindComplete = fixed(Backend.BindComplete);
export const closeComplete = fixed(Backend.CloseComplete);
export const noData = fixed(Backend.NoData);
export const emptyQueryResponse = fixed(Backend.EmptyQueryResponse);
export const portalSuspended = fixed(Backend.PortalSuspended);
export const authenticationOk = new MessageWriter(Backend.Authentication).int32(AuthType.Ok).finish();
export const authenticationCleartext = new MessageWriter(Backend.Authentication)
  .int32(AuthType.CleartextPassword)
  .finish();

export function readyForQuery(status: number): Buffer {
  return fixed(Backend.ReadyForQuery, [status]);
}

export function authenticationMD5(salt: Buffer): Buffer {
  return new MessageWriter(Backend.Authentication).int32(AuthType.MD5Password).bytes(salt).finish();
}

export function authenticationSASL(mechanisms: string[]): Buffer {
  const w = new MessageWriter(Backend.Authentication).int32(AuthType.SASL);
  for (const m of mechanisms) w.cstring(m);
  return w.int8(0).finish();
}

export function authenticationSASLContinue(data: string): Buffer {
  return new MessageWriter(Backend.Authentication)
    .int32(AuthType.SASLContinue)
    .bytes(Buffer.from(data))
    .finish();
}

export function authenticationSASLFinal(data: string): Buffer {
  return new MessageWriter(Backend.Authentication)
    .int32(AuthType.SASLFinal)
    .bytes(Buffer.from(data))
    .finish();
}

export function parameterStatus(name: string, value: string): Buffer {
  return new MessageWriter(Backend.ParameterStatus).cstring(name).cstring(value).finish();
}

export function backendKeyData(pid: number, secret: number): Buffer {
  return new MessageWriter(Backend.BackendKeyData).int32(pid).int32(secret).finish();
}

/** `version` is the newest version the server supports, major << 16 | minor (3.0 here). */
export function negotiateProtocolVersion(version: number, unsupported: string[]): Buffer {
  const w = new MessageWriter(Backend.NegotiateProtocolVersion).int32(version).int32(unsupported.length);
  for (const o of unsupported) w.cstring(o);
  return w.finish();
}

export interface NoticeFields {
  severity: 'ERROR' | 'FATAL' | 'PANIC' | 'WARNING' | 'NOTICE' | 'INFO' | 'LOG' | 'DEBUG';
  sqlstate: string;
  message: string;
  detail?: string;
  hint?: string;
}

function noticeLike(type: number, f: NoticeFields): Buffer {
  const w = new MessageWriter(type, 128)
    .int8(0x53) // S: localized severity
    .cstring(f.severity)
    .int8(0x56) // V: non-localized severity
    .cstring(f.severity)
    .int8(0x43) // C: SQLSTATE
    .cstring(f.sqlstate)
    .int8(0x4d) // M: message
    .cstring(f.message);
  if (f.detail) w.int8(0x44).cstring(f.detail);
  if (f.hint) w.int8(0x48).cstring(f.hint);
  return w.int8(0).finish();
}

export function errorResponse(f: NoticeFields): Buffer {
  return noticeLike(Backend.ErrorResponse, f);
}

export function noticeResponse(f: NoticeFields): Buffer {
  return noticeLike(Backend.NoticeResponse, f);
}

export function commandComplete(tag: string): Buffer {
  return new MessageWriter(Backend.CommandComplete).cstring(tag).finish();
}

/** A text-format column: name and type OID are what drivers use to decode it. */
export interface ColumnSpec {
  name: string;
  typeOid: number;
  typeSize?: number;
}

export const TypeOid = { bool: 16, int8: 20, int4: 23, text: 25, float8: 701, numeric: 1700 } as const;

export function rowDescription(columns: ColumnSpec[]): Buffer {
  const w = new MessageWriter(Backend.RowDescription, 32 + columns.length * 32).int16(columns.length);
  for (const c of columns) {
    w.cstring(c.name)
      .int32(0)
      .int16(0)
      .int32(c.typeOid)
      .int16(c.typeSize ?? -1)
      .int32(-1)
      .int16(0);
  }
  return w.finish();
}

export function dataRow(values: (string | null)[]): Buffer {
  const w = new MessageWriter(Backend.DataRow, 16 + values.length * 16).int16(values.length);
  for (const v of values) {
    if (v === null) {
      w.int32(-1);
    } else {
      const b = Buffer.from(v);
      w.int32(b.length).bytes(b);
    }
  }
  return w.finish();
}
