// Decodes the untyped packets a client may send before its session starts.
import { StartupCode } from './codes.js';
import { MalformedMessage, MessageReader } from './reader.js';

export type StartupPacket =
  | { kind: 'ssl' }
  | { kind: 'gssenc' }
  | { kind: 'cancel'; pid: number; secret: number }
  | { kind: 'startup'; major: number; minor: number; params: Map<string, string> };

/** Length of the first whole packet in buf, 0 when more bytes are needed; throws when over the limit. */
export function startupPacketLength(buf: Buffer, maxBytes: number): number {
  if (buf.length < 4) return 0;
  const len = buf.readInt32BE(0);
  if (len < 8 || len > maxBytes) throw new MalformedMessage(`invalid startup packet length ${len}`);
  return buf.length >= len ? len : 0;
}

export function decodeStartupPacket(packet: Buffer): StartupPacket {
  const r = new MessageReader(packet, 4, packet.length);
  const code = r.int32();
  if (code === StartupCode.SSLRequest) return { kind: 'ssl' };
  if (code === StartupCode.GSSENCRequest) return { kind: 'gssenc' };
  if (code === StartupCode.CancelRequest) return { kind: 'cancel', pid: r.int32(), secret: r.int32() };
  const major = code >>> 16;
  const minor = code & 0xffff;
  const params = new Map<string, string>();
  while (r.remaining() > 1) {
    const key = r.cstring();
    params.set(key, r.cstring());
  }
  if (r.remaining() !== 1 || r.int8() !== 0) throw new MalformedMessage('startup packet is not terminated');
  return { kind: 'startup', major, minor, params };
}
