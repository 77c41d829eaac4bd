// MessageFramer: the same whole messages however the stream is chunked; bad lengths rejected early.
import { describe, expect, it } from 'vitest';
import { FramingError, MessageFramer } from '../../../src/protocol/framer.js';
import * as w from '../fixtures/wire.js';

interface Seen {
  type: number;
  bytes: Buffer;
}

/** Feeds chunks and records each visited message as a copy (the visitor's buffer is only valid during the call). */
function frame(chunks: Buffer[], max = 1 << 20): Seen[] {
  const framer = new MessageFramer(max);
  const seen: Seen[] = [];
  for (const chunk of chunks) {
    framer.feed(chunk, (type, buf, start, end) => {
      seen.push({ type, bytes: Buffer.from(buf.subarray(start, end)) });
    });
  }
  return seen;
}

function expectMessages(seen: Seen[], messages: Buffer[], label: string): void {
  const same =
    seen.length === messages.length &&
    seen.every((s, i) => s.type === messages[i][0] && s.bytes.equals(messages[i]));
  if (!same) {
    expect(seen.length, label).toBe(messages.length);
    seen.forEach((s, i) => {
      expect(s.type, `${label}: type of message ${i}`).toBe(messages[i][0]);
      expect(s.bytes.equals(messages[i]), `${label}: bytes of message ${i}`).toBe(true);
    });
  }
  expect(same, label).toBe(true);
}

/** A client-side extended-protocol exchange plus simple queries: empty bodies, long bodies, NULs, UTF-8. */
const clientMessages = [
  w.parse('s1', 'SELECT $1::int + $2', [23, 23]),
  w.bind({
    portal: '',
    statement: 's1',
    paramFormats: [0, 1],
    values: ['1', Buffer.from([0, 0, 0, 2])],
    resultFormats: [1],
  }),
  w.describe('P', ''),
  w.execute('', 0),
  w.sync(),
  w.query("SELECT 'ünïcødé', repeat('x', 40)"),
  w.flush(),
  w.close('S', 's1'),
  w.sync(),
  w.terminate(),
];

const serverMessages = [
  w.parseComplete(),
  w.bindComplete(),
  w.rowDescription([
    { name: 'a', typeOid: 23, typeSize: 4 },
    { name: 'b', typeOid: 25 },
  ]),
  w.dataRow(['1', 'one']),
  w.dataRow([null, '']),
  w.commandComplete('SELECT 2'),
  w.noticeResponse([
    ['S', 'NOTICE'],
    ['C', '00000'],
    ['M', 'hi'],
  ]),
  w.parameterStatus('TimeZone', 'UTC'),
  w.notificationResponse(42, 'chan', 'payload'),
  w.readyForQuery('I'),
];

describe('MessageFramer splitting', () => {
  for (const [name, messages] of [
    ['client messages', clientMessages],
    ['server messages', serverMessages],
  ] as const) {
    const stream = Buffer.concat(messages);

    it(`yields the same ${name} for every single cut, one byte at a time and all at once`, () => {
      for (const { label, chunks } of w.everySplit(stream)) expectMessages(frame(chunks), messages, label);
    });

    it(`yields the same ${name} for every pair of cuts`, () => {
      for (const { label, chunks } of w.everyTwoCuts(stream)) expectMessages(frame(chunks), messages, label);
    });

    it(`yields the same ${name} for random chunkings with empty chunks`, () => {
      for (const { label, chunks } of w.randomSplits(stream, 300, 12))
        expectMessages(frame(chunks), messages, label);
    });
  }

  it('visits complete messages in the chunk itself, without copying', () => {
    const stream = Buffer.concat(serverMessages);
    const framer = new MessageFramer(1 << 20);
    const bufs: Buffer[] = [];
    framer.feed(stream, (_t, buf) => bufs.push(buf));
    expect(bufs.length).toBe(serverMessages.length);
    for (const b of bufs) expect(b).toBe(stream);
  });

  it('reports start and end offsets inside the chunk', () => {
    const stream = Buffer.concat(clientMessages);
    const framer = new MessageFramer(1 << 20);
    const spans: [number, number][] = [];
    framer.feed(stream, (_t, _b, start, end) => spans.push([start, end]));
    const ends = w.messageEnds(clientMessages);
    expect(spans).toEqual(ends.map((e, i) => [i === 0 ? 0 : ends[i - 1], e]));
  });

  it('is not affected when the caller reuses its read buffer after feed returns', () => {
    const messages = [...clientMessages, ...clientMessages];
    const stream = Buffer.concat(messages);
    for (const size of [1, 2, 3, 4, 5, 6, 7, 11, 17, 64]) {
      const reused = Buffer.alloc(size);
      const framer = new MessageFramer(1 << 20);
      const seen: Seen[] = [];
      for (let pos = 0; pos < stream.length; pos += size) {
        const n = stream.copy(reused, 0, pos, pos + size);
        framer.feed(reused.subarray(0, n), (type, buf, start, end) =>
          seen.push({ type, bytes: Buffer.from(buf.subarray(start, end)) }),
        );
        reused.fill(0xee);
      }
      expectMessages(seen, messages, `read buffer of ${size} bytes`);
    }
  });

  it('keeps nothing pending once a message is complete', () => {
    const framer = new MessageFramer(1 << 20);
    const seen: number[] = [];
    const visit = (t: number) => seen.push(t);
    const m = w.query('SELECT 1');
    framer.feed(m.subarray(0, 3), visit);
    framer.feed(m.subarray(3), visit);
    framer.feed(Buffer.alloc(0), visit);
    framer.feed(w.sync(), visit);
    expect(seen).toEqual([0x51, 0x53]);
  });
});

describe('MessageFramer large messages', () => {
  it('reassembles a 1 MB message arriving in 64 KB chunks, with messages around it', () => {
    const big = w.copyData(Buffer.alloc(1 << 20, 0x61));
    const messages = [w.query('COPY t FROM STDIN'), big, w.copyDone(), w.sync()];
    const stream = Buffer.concat(messages);
    const chunks: Buffer[] = [];
    for (let pos = 0; pos < stream.length; pos += 65536) chunks.push(stream.subarray(pos, pos + 65536));
    expectMessages(frame(chunks, (1 << 20) + 4), messages, '64 KB chunks');
  });

  it('reassembles a 1 MB message whose header is itself split', () => {
    const big = w.copyData(Buffer.alloc(1 << 20, 0x62));
    const chunks = [
      big.subarray(0, 2),
      big.subarray(2, 65536),
      ...w.cutAt(big.subarray(65536), [65536, 300000]).filter((c) => c.length > 0),
    ];
    expectMessages(frame(chunks, (1 << 20) + 4), [big], 'split header');
  });
});

describe('MessageFramer length checks', () => {
  const header = (type: string, len: number) => Buffer.concat([Buffer.from(type), w.int32(len)]);

  it('accepts a message whose length field equals the limit', () => {
    const m = w.copyData(Buffer.alloc(96));
    expect(m.readInt32BE(1)).toBe(100);
    expectMessages(frame([m], 100), [m], 'at the limit');
  });

  it('throws FramingError for a length over the limit, as soon as the header arrives', () => {
    expect(() => frame([header('d', 101)], 100)).toThrow(FramingError);
  });

  it('throws FramingError for an oversize length split across chunks', () => {
    const framer = new MessageFramer(100);
    const h = header('d', 1000);
    framer.feed(h.subarray(0, 2), () => {});
    expect(() => framer.feed(h.subarray(2), () => {})).toThrow(FramingError);
  });

  it('throws FramingError for lengths below 4', () => {
    for (const len of [3, 0, -1, -2147483648]) {
      expect(() => frame([header('Q', len), Buffer.alloc(8)], 1 << 20), `length ${len}`).toThrow(
        FramingError,
      );
    }
  });

  it('throws FramingError for an undersize length after valid messages and after a split', () => {
    const bad = header('Q', 2);
    const stream = Buffer.concat([w.sync(), w.query('x'), bad]);
    for (const { label, chunks } of w.everySplit(stream)) {
      const framer = new MessageFramer(1 << 20);
      const seen: number[] = [];
      expect(() => {
        for (const c of chunks) framer.feed(c, (t) => seen.push(t));
      }, label).toThrow(FramingError);
      expect(seen, label).toEqual([0x53, 0x51]);
    }
  });

  it('accepts the minimum length 4 (empty body)', () => {
    expectMessages(frame([w.sync(), w.flush()]), [w.sync(), w.flush()], 'empty bodies');
  });
});

describe('MessageFramer of client messages (type check)', () => {
  /** Messages of every type PostgreSQL accepts after startup, and one it does not. */
  const accepted = [
    ...clientMessages,
    w.functionCall(1234, [], ['1'], 0),
    w.copyData('row\n'),
    w.msg('c'),
    w.msg('f', w.cstring('stop')),
  ];
  const unknown = w.msg('A', w.cstring('junk'));

  /** Feeds the chunks, recording visited messages; returns them and the FramingError thrown, if any. */
  function run(chunks: Buffer[]): { seen: Seen[]; error: unknown } {
    const framer = MessageFramer.client(1 << 20);
    const seen: Seen[] = [];
    try {
      for (const chunk of chunks)
        framer.feed(chunk, (type, buf, start, end) =>
          seen.push({ type, bytes: Buffer.from(buf.subarray(start, end)) }),
        );
    } catch (error) {
      return { seen, error };
    }
    return { seen, error: null };
  }

  it('yields every accepted type for every pair of cuts', () => {
    const stream = Buffer.concat(accepted);
    for (const { label, chunks } of w.everyTwoCuts(stream)) expectMessages(run(chunks).seen, accepted, label);
  });

  it('names the type of an unknown message as PostgreSQL does', () => {
    const { error } = run([Buffer.concat([w.query('SELECT 1'), unknown])]);
    expect(error).toBeInstanceOf(FramingError);
    expect((error as Error).message).toBe('invalid frontend message type 65');
  });

  it('refuses a password message after login, as PostgreSQL does', () => {
    expect(run([w.passwordMessage('secret')]).error).toBeInstanceOf(FramingError);
  });

  it('visits nothing of a chunk that holds a bad message, wherever the stream is cut', () => {
    const before = [w.query('SELECT 1'), w.parse('', 'SELECT 2'), w.sync()];
    const stream = Buffer.concat([...before, unknown]);
    const badAt = stream.length - unknown.length;
    for (const { label, chunks } of w.everyTwoCuts(stream)) {
      const { seen, error } = run(chunks);
      expect(error, label).toBeInstanceOf(FramingError);
      // Only messages that were whole before the chunk holding the bad type byte.
      let fed = 0;
      for (const c of chunks) {
        if (fed + c.length > badAt) break;
        fed += c.length;
      }
      const whole = w.messageEnds(before).filter((end) => end <= fed).length;
      expectMessages(seen, before.slice(0, whole), label);
    }
  });

  it('accepts any type when framing server messages', () => {
    const stream = Buffer.concat(serverMessages);
    expectMessages(frame([stream]), serverMessages, 'server messages');
  });
});
