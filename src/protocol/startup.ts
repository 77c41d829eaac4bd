// Decodes the untyped packets a client may send before its session starts, and refuses them as PostgreSQL does.
import { StartupCode } from './codes.js';
import { MalformedMessage, MessageReader } from './reader.js';

export type StartupPacket =
  | { kind: 'ssl' }
  | { kind: 'gssenc' }
  | { kind: 'cancel'; pid: number; secret: number }
  | { kind: 'startup'; major: number; minor: number; params: Map<string, string> };

/** A CancelRequest is exactly this long; PostgreSQL drops one of any other length. */
const cancelRequestBytes = 16;

/**
 * Input PostgreSQL drops without a word (it only logs it) and answers by closing: a length out of range, a
 * packet cut short, a connection that sends nothing. A client that is not speaking the protocol yet (an HTTP
 * probe, a Terminate sent before the startup message) gets no bytes it would have to make sense of.
 */
export class DroppedStartup extends MalformedMessage {
  /** `quiet`: nothing worth logging above debug (PostgreSQL logs nothing either), e.g. an empty connection. */
  constructor(
    message: string,
    readonly quiet = false,
  ) {
    super(message);
  }
}

/**
 * A protocol version PostgreSQL 15 refuses: any major version but 3, and a second SSLRequest or GSSENCRequest,
 * which it reads as the startup packet of protocol 1234.5679 or 1234.5680.
 */
export class UnsupportedProtocol extends Error {
  readonly major: number;
  readonly minor: number;
  constructor(code: number) {
    const major = code >>> 16;
    const minor = code & 0xffff;
    super(`unsupported frontend protocol ${major}.${minor}: server supports 3.0 to 3.0`);
    this.major = major;
    this.minor = minor;
  }

  /** A client older than protocol 3 reads errors in the old format (see legacyErrorResponse). */
  get legacy(): boolean {
    return this.major < 3;
  }
}

/** The error PostgreSQL sends a client of protocol 2 or older: 'E' and one string, the format that client reads. */
export function legacyErrorResponse(message: string): Buffer {
  return Buffer.from(`EFATAL:  ${message}\n\0`);
}

/** Length of the first whole packet in buf, 0 when more bytes are needed; throws when out of range. */
export function startupPacketLength(buf: Buffer, maxBytes: number): number {
  if (buf.length < 4) return 0;
  const len = buf.readInt32BE(0);
  if (len < 8 || len > maxBytes) throw new DroppedStartup('invalid length of startup packet');
  return buf.length >= len ? len : 0;
}

export function decodeStartupPacket(packet: Buffer): StartupPacket {
  const r = new MessageReader(packet, 4, packet.length);
  const code = r.int32();
  if (code === StartupCode.SSLRequest) return { kind: 'ssl' };
  if (code === StartupCode.GSSENCRequest) return { kind: 'gssenc' };
  if (code === StartupCode.CancelRequest) {
    if (packet.length !== cancelRequestBytes) throw new DroppedStartup('invalid length of startup packet');
    return { kind: 'cancel', pid: r.int32(), secret: r.int32() };
  }
  // As PostgreSQL: the version is checked before the parameters are read.
  if (code >>> 16 !== 3) throw new UnsupportedProtocol(code);
  return { kind: 'startup', major: 3, minor: code & 0xffff, params: startupParams(packet) };
}

/** Name/value pairs up to the empty name that must be the packet's last byte, read as PostgreSQL reads them. */
function startupParams(packet: Buffer): Map<string, string> {
  const params = new Map<string, string>();
  const layoutError = () =>
    new MalformedMessage('invalid startup packet layout: expected terminator as last byte');
  let pos = 8;
  while (pos < packet.length && packet[pos] !== 0) {
    const nameEnd = packet.indexOf(0, pos);
    if (nameEnd < 0 || nameEnd + 1 >= packet.length) throw layoutError();
    const valueEnd = packet.indexOf(0, nameEnd + 1);
    if (valueEnd < 0) throw layoutError();
    params.set(packet.toString('utf8', pos, nameEnd), packet.toString('utf8', nameEnd + 1, valueEnd));
    pos = valueEnd + 1;
  }
  if (pos !== packet.length - 1) throw layoutError();
  return params;
}
