// Startup-phase packets: length detection and decoding of SSLRequest, GSSENCRequest, CancelRequest, StartupMessage.
import { describe, expect, it } from 'vitest';
import { MalformedMessage } from '../../../src/protocol/reader.js';
import {
  DroppedStartup,
  UnsupportedProtocol,
  decodeStartupPacket,
  legacyErrorResponse,
  startupPacketLength,
} from '../../../src/protocol/startup.js';
import * as w from '../fixtures/wire.js';

describe('startupPacketLength', () => {
  const startup = w.startupMessage([
    ['user', 'app'],
    ['database', 'appdb'],
  ]);

  it('asks for more bytes until the length field is there', () => {
    for (let n = 0; n < 4; n++) expect(startupPacketLength(startup.subarray(0, n), 10000)).toBe(0);
  });

  it('asks for more bytes until the whole packet is there', () => {
    for (let n = 4; n < startup.length; n++)
      expect(startupPacketLength(startup.subarray(0, n), 10000)).toBe(0);
    expect(startupPacketLength(startup, 10000)).toBe(startup.length);
  });

  it('returns the first packet length when more bytes follow', () => {
    const both = Buffer.concat([w.sslRequest(), startup]);
    expect(startupPacketLength(both, 10000)).toBe(8);
  });

  it('throws for lengths below 8 or over the limit', () => {
    for (const len of [0, 4, 7, -1]) {
      expect(() => startupPacketLength(w.int32(len), 10000), `length ${len}`).toThrow(MalformedMessage);
    }
    expect(() => startupPacketLength(w.int32(10001), 10000)).toThrow(MalformedMessage);
    expect(startupPacketLength(Buffer.concat([w.int32(8), w.int32(0)]), 8)).toBe(8);
  });
});

describe('decodeStartupPacket', () => {
  it('decodes SSLRequest and GSSENCRequest', () => {
    expect(decodeStartupPacket(w.sslRequest())).toEqual({ kind: 'ssl' });
    expect(decodeStartupPacket(w.gssencRequest())).toEqual({ kind: 'gssenc' });
  });

  it('decodes CancelRequest with its process id and secret key', () => {
    expect(decodeStartupPacket(w.cancelRequest(12345, 987654321))).toEqual({
      kind: 'cancel',
      pid: 12345,
      secret: 987654321,
    });
  });

  it('throws for a truncated CancelRequest', () => {
    const full = w.cancelRequest(1, 2);
    const short = Buffer.concat([w.int32(12), full.subarray(4, 12)]);
    expect(() => decodeStartupPacket(short)).toThrow(MalformedMessage);
  });

  it('decodes a StartupMessage with version and parameters in order', () => {
    const p = decodeStartupPacket(
      w.startupMessage([
        ['user', 'app'],
        ['database', 'appdb'],
        ['application_name', 'psql ünï'],
        ['options', '-c search_path=a,b'],
        ['client_encoding', ''],
      ]),
    );
    expect(p.kind).toBe('startup');
    if (p.kind !== 'startup') return;
    expect(p.major).toBe(3);
    expect(p.minor).toBe(0);
    expect([...p.params]).toEqual([
      ['user', 'app'],
      ['database', 'appdb'],
      ['application_name', 'psql ünï'],
      ['options', '-c search_path=a,b'],
      ['client_encoding', ''],
    ]);
  });

  it('decodes a StartupMessage without parameters', () => {
    const p = decodeStartupPacket(w.startupMessage([]));
    expect(p).toEqual({ kind: 'startup', major: 3, minor: 0, params: new Map() });
  });

  it('reports the requested minor version (3.2) for protocol negotiation', () => {
    const p = decodeStartupPacket(w.startupMessage([['user', 'u']], (3 << 16) | 2));
    expect(p.kind === 'startup' && [p.major, p.minor]).toEqual([3, 2]);
  });

  it('throws when the parameter list is not terminated', () => {
    const body = Buffer.concat([w.int32(w.protocol30), w.cstring('user'), w.cstring('app')]);
    const unterminated = Buffer.concat([w.int32(4 + body.length), body]);
    expect(() => decodeStartupPacket(unterminated)).toThrow(MalformedMessage);
  });

  it('throws when a key has no value', () => {
    const body = Buffer.concat([w.int32(w.protocol30), w.cstring('user'), w.int8(0)]);
    expect(() => decodeStartupPacket(Buffer.concat([w.int32(4 + body.length), body]))).toThrow(
      MalformedMessage,
    );
  });

  it('throws when bytes follow the terminator', () => {
    const body = Buffer.concat([
      w.int32(w.protocol30),
      w.cstring('user'),
      w.cstring('app'),
      w.int8(0),
      w.int8(0x41),
    ]);
    expect(() => decodeStartupPacket(Buffer.concat([w.int32(4 + body.length), body]))).toThrow(
      MalformedMessage,
    );
  });
});

describe('startup packets PostgreSQL 15 refuses', () => {
  const decodeError = (packet: Buffer) => {
    try {
      decodeStartupPacket(packet);
    } catch (err) {
      return err as Error;
    }
    throw new Error('decoded');
  };

  it('drops lengths out of range without an answer (an HTTP request, a Terminate before startup)', () => {
    for (const bytes of [Buffer.from('GET / HTTP/1.1\r\n'), Buffer.from([0x58, 0, 0, 0, 4]), w.int32(2)]) {
      expect(() => startupPacketLength(bytes, 10000)).toThrow(DroppedStartup);
      expect(() => startupPacketLength(bytes, 10000)).toThrow('invalid length of startup packet');
    }
  });

  it('drops a CancelRequest that is not 16 bytes', () => {
    const full = w.cancelRequest(1, 2);
    const long = Buffer.concat([w.int32(20), full.subarray(4), w.int32(3)]);
    expect(decodeError(long)).toBeInstanceOf(DroppedStartup);
  });

  it('refuses any major version but 3 before reading the parameters, with the message PostgreSQL sends', () => {
    const cases: [number, string, boolean][] = [
      [0x12345678, 'unsupported frontend protocol 4660.22136: server supports 3.0 to 3.0', false],
      [4 << 16, 'unsupported frontend protocol 4.0: server supports 3.0 to 3.0', false],
      [2 << 16, 'unsupported frontend protocol 2.0: server supports 3.0 to 3.0', true],
    ];
    for (const [version, message, legacy] of cases) {
      const unterminated = Buffer.concat([w.int32(12), w.int32(version), Buffer.from('user')]);
      const err = decodeError(unterminated);
      expect(err).toBeInstanceOf(UnsupportedProtocol);
      expect(err.message).toBe(message);
      expect((err as UnsupportedProtocol).legacy).toBe(legacy);
    }
  });

  it('reads a second SSLRequest as PostgreSQL does: protocol 1234.5679', () => {
    expect(new UnsupportedProtocol(80877103).message).toBe(
      'unsupported frontend protocol 1234.5679: server supports 3.0 to 3.0',
    );
  });

  it('writes old-protocol errors as the bytes PostgreSQL 15 sends (recorded from a 15.x server)', () => {
    const message = 'unsupported frontend protocol 2.0: server supports 3.0 to 3.0';
    expect(legacyErrorResponse(message).toString('hex')).toBe(
      '45464154414c3a2020756e737570706f727465642066726f6e74656e642070726f746f636f6c20322e303a20' +
        '73657276657220737570706f72747320332e3020746f20332e300a00',
    );
  });

  it('names a bad parameter layout as PostgreSQL does', () => {
    const body = Buffer.concat([w.int32(w.protocol30), w.cstring('user'), w.cstring('app')]);
    const err = decodeError(Buffer.concat([w.int32(4 + body.length), body]));
    expect(err).not.toBeInstanceOf(DroppedStartup);
    expect(err.message).toBe('invalid startup packet layout: expected terminator as last byte');
  });
});
