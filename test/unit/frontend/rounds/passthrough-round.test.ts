// Extended-protocol rounds the sharded fast path takes whole: their shape, and the bytes sent to a shard.
import { describe, expect, it } from 'vitest';
import { Frontend } from '../../../../src/protocol/codes.js';
import { readBind } from '../../../../src/protocol/extended-messages.js';
import { MessageWriter } from '../../../../src/protocol/writer.js';
import { passRound, roundBytes, ClientMessage } from '../../../../src/frontend/rounds/passthrough-round.js';

/** The client messages of an extended-protocol round, built field by field. */
const fe = {
  parse: (name: string, sql: string, types: number[]) => {
    const w = new MessageWriter(Frontend.Parse).cstring(name).cstring(sql).int16(types.length);
    for (const t of types) w.int32(t);
    return w.finish();
  },
  bind: (portal: string, statement: string, params: Buffer[]) => {
    const w = new MessageWriter(Frontend.Bind)
      .cstring(portal)
      .cstring(statement)
      .int16(0)
      .int16(params.length);
    for (const p of params) w.int32(p.length).bytes(p);
    return w.int16(0).finish();
  },
  describe: (kind: 'S' | 'P', name: string) =>
    new MessageWriter(Frontend.Describe).int8(kind.charCodeAt(0)).cstring(name).finish(),
  execute: (portal: string, maxRows: number) =>
    new MessageWriter(Frontend.Execute).cstring(portal).int32(maxRows).finish(),
  sync: () => Buffer.from([Frontend.Sync, 0, 0, 0, 4]),
  flush: () => Buffer.from([Frontend.Flush, 0, 0, 0, 4]),
};

/** A whole message on its own, as the session keeps it. */
const msg = (whole: Buffer): ClientMessage => ClientMessage.of(whole);

const parse = msg(fe.parse('', 'SELECT $1::int', []));
const bind = (statement = '', portal = '') => msg(fe.bind(portal, statement, [Buffer.from('7')]));
const describeP = msg(fe.describe('P', ''));
const execute = msg(fe.execute('', 0));
const sync = msg(fe.sync());

describe('passRound', () => {
  it('takes Parse, Bind, Describe, Execute and Sync of the unnamed statement and portal', () => {
    const round = passRound([parse, bind(), describeP, execute, sync], 0);
    expect(round).toMatchObject({ parse: { sql: 'SELECT $1::int' }, following: 4 });
  });

  it('takes a Bind of a named statement without Describe', () => {
    expect(passRound([bind('stmt'), execute, sync], 0)).toMatchObject({ parse: null, following: 2 });
  });

  it.each([
    ['a round without its Sync yet', [parse, bind(), execute]],
    ['a named portal', [bind('', 'p1'), execute, sync]],
    ['Flush instead of Sync', [bind(), execute, msg(fe.flush())]],
    ['two statements in one round', [bind(), execute, bind(), execute, sync]],
    ['a named Parse', [msg(fe.parse('s1', 'SELECT 1', [])), bind('s1'), execute, sync]],
    ['Describe of the statement', [parse, bind(), msg(fe.describe('S', '')), execute, sync]],
    ['Describe of a named portal', [parse, bind(), msg(fe.describe('P', 'p1')), execute, sync]],
    ['Execute of a named portal', [bind(), msg(fe.execute('p1', 0)), sync]],
  ])('leaves %s to the general path', (_what, messages) => {
    expect(passRound(messages, 0)).toBeNull();
  });
});

/** Messages as the session frames them from one chunk: side by side in one buffer. */
function framed(...wholes: Buffer[]): ClientMessage[] {
  const buf = Buffer.concat([Buffer.from('junk'), ...wholes]);
  let pos = 4;
  return wholes.map((w) => {
    const m = new ClientMessage(w[0], buf, pos, pos + w.length);
    pos += w.length;
    return m;
  });
}

describe('passRound with messages inside a larger buffer', () => {
  it('reads each message within its own bounds', () => {
    const messages = framed(
      fe.parse('', 'SELECT $1::int', []),
      fe.bind('', '', [Buffer.from('42')]),
      fe.execute('', 0),
      fe.sync(),
    );
    const round = passRound(messages, 0);
    expect(round).toMatchObject({ parse: { sql: 'SELECT $1::int' }, following: 3 });
    expect(round!.bind.params).toEqual([Buffer.from('42')]);
  });

  it('reuses a Parse decoded before when the bytes are the same, and decodes one that differs', () => {
    const known = {
      body: fe.parse('', 'SELECT $1::int', []).subarray(5),
      parse: { name: '', sql: 'SELECT $1::int', paramTypes: [] },
    };
    const same = passRound(
      framed(fe.parse('', 'SELECT $1::int', []), fe.bind('', '', []), fe.execute('', 0), fe.sync()),
      0,
      known,
    );
    expect(same!.parse).toBe(known.parse);
    const other = passRound(
      framed(fe.parse('', 'SELECT $1::int8', []), fe.bind('', '', []), fe.execute('', 0), fe.sync()),
      0,
      known,
    );
    expect(other!.parse).toEqual({ name: '', sql: 'SELECT $1::int8', paramTypes: [] });
  });

  it('answers a Bind whose parameters run past its message with null, even when bytes follow it', () => {
    const good = fe.bind('', '', [Buffer.from('12345678')]);
    // The parameter claims 8 bytes but the message ends after 3 of them; the Execute's bytes follow in the buffer.
    const cut = Buffer.concat([good.subarray(0, good.length - 7)]);
    cut.writeInt32BE(cut.length - 1, 1);
    expect(passRound(framed(cut, fe.execute('', 0), fe.sync()), 0)).toBeNull();
  });
});

describe('roundBytes', () => {
  it('sends messages that lie side by side as one view of their buffer, not a copy', () => {
    const messages = framed(fe.bind('', '', [Buffer.from('7')]), fe.execute('', 0), fe.sync());
    const bytes = roundBytes(messages[0], messages.slice(1));
    expect(bytes).toEqual(Buffer.concat([fe.bind('', '', [Buffer.from('7')]), fe.execute('', 0), fe.sync()]));
    expect(bytes.buffer).toBe(messages[0].buf.buffer);
  });

  it('writes the messages back as the client sent them', () => {
    const messages = [parse, bind(), describeP, execute, sync];
    const expected = Buffer.concat([
      fe.parse('', 'SELECT $1::int', []),
      fe.bind('', '', [Buffer.from('7')]),
      fe.describe('P', ''),
      fe.execute('', 0),
      fe.sync(),
    ]);
    expect(roundBytes(messages[0], messages.slice(1))).toEqual(expected);
  });

  it("renames the Bind's statement and keeps its portal, parameters and the rest", () => {
    const bytes = roundBytes(bind('client_name', 'p'), [execute, sync], 'pp_server');
    const bindLength = bytes.readInt32BE(1) + 1;
    expect(readBind(bytes.subarray(0, bindLength))).toMatchObject({
      portal: 'p',
      statement: 'pp_server',
      params: [Buffer.from('7')],
    });
    expect(bytes.subarray(bindLength)).toEqual(Buffer.concat([fe.execute('', 0), fe.sync()]));
  });
});
