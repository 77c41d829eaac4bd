// Builders for the client-side messages the proxy sends to PostgreSQL on its own behalf.
import { Frontend, StartupCode } from './codes.js';
import { MessageWriter } from './writer.js';

export const sslRequest = new MessageWriter(null).int32(StartupCode.SSLRequest).finish();
export const sync = Buffer.from([Frontend.Sync, 0, 0, 0, 4]);
export const terminate = Buffer.from([Frontend.Terminate, 0, 0, 0, 4]);

export function startupMessage(params: Record<string, string>): Buffer {
  const w = new MessageWriter(null, 128).int32(StartupCode.Protocol30);
  for (const [k, v] of Object.entries(params)) w.cstring(k).cstring(v);
  return w.int8(0).finish();
}

export function cancelRequest(pid: number, secret: number): Buffer {
  return new MessageWriter(null, 16).int32(StartupCode.CancelRequest).int32(pid).int32(secret).finish();
}

export function passwordMessage(password: string): Buffer {
  return new MessageWriter(Frontend.PasswordMessage).cstring(password).finish();
}

export function saslInitialResponse(mechanism: string, data: string): Buffer {
  const payload = Buffer.from(data);
  return new MessageWriter(Frontend.PasswordMessage)
    .cstring(mechanism)
    .int32(payload.length)
    .bytes(payload)
    .finish();
}

export function saslResponse(data: string): Buffer {
  return new MessageWriter(Frontend.PasswordMessage).bytes(Buffer.from(data)).finish();
}

export function query(sql: string): Buffer {
  return new MessageWriter(Frontend.Query, sql.length + 8).cstring(sql).finish();
}

/** Parse of a statement with no parameter types given. */
export function parse(name: string, sql: string): Buffer {
  return new MessageWriter(Frontend.Parse).cstring(name).cstring(sql).int16(0).finish();
}

/** Close of a prepared statement ('S'). */
export function closeStatement(name: string): Buffer {
  return new MessageWriter(Frontend.Close).int8(0x53).cstring(name).finish();
}
