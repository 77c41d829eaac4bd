// ClientSession hot path with in-memory sockets: statement renaming, hidden ParseCompletes, release after ReadyForQuery.
import { Duplex } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../../src/backend/database.js';
import { ResponseRelay } from '../../../src/backend/response-relay.js';
import { ServerSessionState } from '../../../src/backend/server-session-state.js';
import { SharedStatements } from '../../../src/backend/shared-statements.js';
import { ClientSession } from '../../../src/frontend/client-session.js';
import type { Logger } from '../../../src/logger.js';
import type { SocketInput } from '../../../src/net/socket-input.js';
import { loadParser } from '../../../src/sql/parser.js';
import * as w from '../fixtures/wire.js';

/** A socket whose writes complete at once and are recorded. */
class MemorySocket extends Duplex {
  written: Buffer[] = [];
  constructor() {
    super({
      write: (chunk: Buffer, _enc, cb) => {
        this.written.push(Buffer.from(chunk));
        cb();
      },
      read() {},
    });
  }

  /** Everything written since the last takeWritten(). */
  takeWritten(): Buffer {
    const all = Buffer.concat(this.written);
    this.written = [];
    return all;
  }
}

interface FakeServer {
  name: string;
  relay: ResponseRelay;
  session: ServerSessionState;
  socket: MemorySocket;
  closed: boolean;
  query(sql: string): Promise<string | undefined>;
  pause(): void;
  resume(): void;
}

function fakeServer(name: string): FakeServer {
  const socket = new MemorySocket();
  const relay = new ResponseRelay();
  return {
    name,
    relay,
    session: new ServerSessionState(),
    socket,
    closed: false,
    query: (sql) => relay.internalQuery((b) => socket.write(b), w.query(sql)),
    pause: () => {},
    resume: () => {},
  };
}

const silent: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child: () => silent,
  enabled: () => false,
};

/** A client session over in-memory sockets, with a pool handing out the given fake connections in order. */
function harness(servers: FakeServer[], settings = new Map<string, string>()) {
  const client = new MemorySocket();
  const input = { socket: client, handler: (_c: Buffer) => {} };
  const free = [...servers];
  const released: string[] = [];
  const destroyed: string[] = [];
  const pool = {
    tryAcquire: () => free.shift() ?? null,
    acquire: () => Promise.reject(new Error('no fake connection left')),
    release: (c: FakeServer) => {
      c.relay.target = null;
      released.push(c.name);
    },
    destroy: (c: FakeServer) => {
      c.relay.target = null;
      destroyed.push(c.name);
    },
  };
  const host = { address: '127.0.0.1:1', pool, monitor: { markDown() {} } };
  const db = {
    mode: 'transaction',
    primaryFunctions: new Set<string>(),
    shard: {
      choose: (_access: string, reason: string) => ({
        host,
        decision: { role: 'primary', shard: 0, host: host.address, reason },
      }),
    },
    config: { pool: { reset_query: 'DISCARD ALL' }, routing: { read_your_writes: 'off' } },
    statements: new SharedStatements(),
    // One shard: the session forwards bytes (and watches for a reshard making the cluster sharded).
    cluster: { sharded: false },
  } as unknown as Database;
  const session = new ClientSession(
    input as unknown as SocketInput,
    db,
    'app',
    1,
    2,
    settings,
    1 << 20,
    silent,
    { cancelServer() {}, onClosed() {} },
  );
  session.start(new Map(), Buffer.alloc(0));
  client.takeWritten();
  return {
    session,
    client,
    released,
    destroyed,
    /** Bytes from the client, as one read. */
    send: (...messages: Buffer[]) => input.handler(Buffer.concat(messages)),
    /** Bytes from a server connection, as one read. */
    reply: (s: FakeServer, ...messages: Buffer[]) => s.relay.process(Buffer.concat(messages)),
  };
}

const hex = (b: Buffer) => b.toString('hex');
/** Pins the session's server connection, as a statement with session state would (its binding holds why). */
const pin = (session: ClientSession, why: string) => {
  (session as unknown as { binding: { pinned: string | null } }).binding.pinned = why;
};
const types = (b: Buffer) =>
  w
    .splitMessages(b)
    .map((m) => m.type)
    .join('');

beforeAll(async () => {
  await loadParser();
});

describe('ClientSession transaction pooling hot path', () => {
  it('forwards a simple query as the client’s bytes and the reply as the server’s, then releases the connection', () => {
    const a = fakeServer('a');
    const h = harness([a]);
    const q = w.query('SELECT 1');
    h.send(q);
    expect(hex(a.socket.takeWritten())).toBe(hex(q));
    const reply = [
      w.rowDescription([{ name: '?column?', typeOid: 23, typeSize: 4 }]),
      w.dataRow(['1']),
      w.commandComplete('SELECT 1'),
      w.readyForQuery('I'),
    ];
    h.reply(a, ...reply);
    expect(hex(h.client.takeWritten())).toBe(hex(Buffer.concat(reply)));
    expect(h.released).toEqual(['a']);
  });

  it('keeps its state as data: idle, bound while a server answers, idle once released, closed after Terminate', () => {
    const a = fakeServer('a');
    const h = harness([a]);
    expect(h.session.state).toBe('idle');
    h.send(w.query('SELECT 1'));
    expect(h.session.state).toBe('bound');
    expect(h.session.server).toBe(a);
    h.reply(a, w.commandComplete('SELECT 1'), w.readyForQuery('I'));
    expect(h.session.state).toBe('idle');
    expect(h.session.server).toBeNull();
    h.send(w.terminate());
    expect(h.session.state).toBe('closed');
  });

  it('renames a named statement and re-prepares it, hidden, on the next connection', () => {
    const a = fakeServer('a');
    const b = fakeServer('b');
    const h = harness([a, b]);

    h.send(w.parse('s1', 'SELECT $1::int', [23]), w.sync());
    const toA = w.splitMessages(a.socket.takeWritten());
    expect(toA.map((m) => m.type).join('')).toBe('PS');
    const serverName = w.decodeParse(toA[0].raw).name;
    expect(serverName).not.toBe('s1');
    h.reply(a, w.parseComplete(), w.readyForQuery('I'));
    expect(hex(h.client.takeWritten())).toBe(hex(Buffer.concat([w.parseComplete(), w.readyForQuery('I')])));
    expect(h.released).toEqual(['a']);

    h.send(
      w.bind({ portal: '', statement: 's1', paramFormats: [0], values: ['7'] }),
      w.execute(''),
      w.sync(),
    );
    const toB = w.splitMessages(b.socket.takeWritten());
    expect(toB.map((m) => m.type).join('')).toBe('PBES');
    expect(w.decodeParse(toB[0].raw)).toEqual({
      name: serverName,
      query: 'SELECT $1::int',
      paramTypes: [23],
    });
    expect(w.decodeBind(toB[1].raw).statement).toBe(serverName);
    h.reply(
      b,
      w.parseComplete(),
      w.bindComplete(),
      w.dataRow(['7']),
      w.commandComplete('SELECT 1'),
      w.readyForQuery('I'),
    );
    expect(hex(h.client.takeWritten())).toBe(
      hex(
        Buffer.concat([
          w.bindComplete(),
          w.dataRow(['7']),
          w.commandComplete('SELECT 1'),
          w.readyForQuery('I'),
        ]),
      ),
    );
  });

  it('answers a Parse of a statement the connection already has with a stand-in, whose ParseComplete the client sees', () => {
    const a = fakeServer('a');
    const h = harness([a]);
    pin(h.session, 'test: keep the connection');
    h.send(w.parse('s1', 'SELECT 1'), w.sync());
    a.socket.takeWritten();
    h.reply(a, w.parseComplete(), w.readyForQuery('I'));
    h.client.takeWritten();
    // Same text under another name: the server-side statement exists (another client may be using it).
    h.send(w.parse('s2', 'SELECT 1'), w.sync());
    const standIn = Buffer.concat([w.close('S', 'pp_standin'), w.parse('pp_standin', ''), w.sync()]);
    expect(hex(a.socket.takeWritten())).toBe(hex(standIn));
    h.reply(a, w.closeComplete(), w.parseComplete(), w.readyForQuery('I'));
    expect(types(h.client.takeWritten())).toBe('1Z');
  });

  it("answers a second Parse of the same name with the server's 42P05, naming the client's statement", () => {
    const a = fakeServer('a');
    const h = harness([a]);
    pin(h.session, 'test: keep the connection');
    h.send(w.parse('s1', 'SELECT 1'), w.sync());
    const first = a.socket.takeWritten();
    h.reply(a, w.parseComplete(), w.readyForQuery('I'));
    h.client.takeWritten();
    h.send(w.parse('s1', 'SELECT 2'), w.sync());
    const serverName = w.decodeParse(first.subarray(0, first.length - 5)).name;
    expect(w.decodeParse(a.socket.takeWritten().subarray(0, -5))).toEqual({
      name: serverName,
      query: 'SELECT 2',
      paramTypes: [],
    });
    h.reply(
      a,
      w.simpleError('42P05', `prepared statement "${serverName}" already exists`),
      w.readyForQuery('I'),
    );
    const reply = h.client.takeWritten();
    expect(types(reply)).toBe('EZ');
    expect(reply.toString()).toContain('prepared statement "s1" already exists');
  });

  it('keeps the client’s reply order when an unnamed Parse and a re-prepared named statement share a round', () => {
    const a = fakeServer('a');
    const b = fakeServer('b');
    const h = harness([a, b]);
    h.send(w.parse('s1', 'SELECT 2'), w.sync());
    a.socket.takeWritten();
    h.reply(a, w.parseComplete(), w.readyForQuery('I'));
    h.client.takeWritten();

    // Unnamed Parse/Bind/Execute, then Bind/Execute of s1, which connection b has not prepared.
    h.send(
      w.parse('', 'SELECT 1'),
      w.bind({ portal: '', statement: '' }),
      w.execute(''),
      w.bind({ portal: '', statement: 's1' }),
      w.execute(''),
      w.sync(),
    );
    expect(types(b.socket.takeWritten())).toBe('PBEPBES');
    // PostgreSQL answers each message in order; the second ParseComplete belongs to the proxy's own Parse.
    h.reply(
      b,
      w.parseComplete(),
      w.bindComplete(),
      w.dataRow(['1']),
      w.commandComplete('SELECT 1'),
      w.parseComplete(),
      w.bindComplete(),
      w.dataRow(['2']),
      w.commandComplete('SELECT 1'),
      w.readyForQuery('I'),
    );
    expect(types(h.client.takeWritten())).toBe('12DC2DCZ');
  });

  it('forgets a statement the server rejected when an unnamed Parse came first in the round', () => {
    const a = fakeServer('a');
    const h = harness([a]);
    pin(h.session, 'test: keep the connection');
    h.send(w.parse('', 'SELECT 1'), w.parse('bad', 'SELECT nope FROM missing'), w.sync());
    expect(types(a.socket.takeWritten())).toBe('PPS');
    h.reply(
      a,
      w.parseComplete(),
      w.simpleError('42P01', 'relation "missing" does not exist'),
      w.readyForQuery('I'),
    );
    expect(types(h.client.takeWritten())).toBe('1EZ');
    // The server has no such statement, so the connection must not claim it.
    expect(a.session.preparedCount).toBe(0);
  });

  it('counts a FunctionCall as a request answered by ReadyForQuery, and releases the connection after it', () => {
    const a = fakeServer('a');
    const h = harness([a]);
    const call = w.functionCall(954, [Buffer.from([0, 0, 0, 1]), Buffer.from([0, 0, 0, 4])], [1], 1);
    h.send(call);
    expect(hex(a.socket.takeWritten())).toBe(hex(call));
    h.reply(a, w.functionCallResponse(Buffer.from('data')), w.readyForQuery('I'));
    expect(types(h.client.takeWritten())).toBe('VZ');
    expect(h.released).toEqual(['a']);
    expect(h.session.inTransaction()).toBe(false);
  });

  it('keeps the connection while extended-protocol messages sent after a Query still await their Sync', () => {
    const a = fakeServer('a');
    const b = fakeServer('b');
    const h = harness([a, b]);
    h.send(
      w.query('SELECT 1'),
      w.parse('', 'UPDATE t SET n = n + 1'),
      w.bind({ portal: '', statement: '' }),
      w.execute(''),
    );
    expect(types(a.socket.takeWritten())).toBe('QPBE');
    h.reply(a, w.commandComplete('SELECT 1'), w.readyForQuery('I'));
    expect(h.released).toEqual([]);
    h.send(w.sync());
    expect(types(a.socket.takeWritten())).toBe('S');
    expect(types(b.socket.takeWritten())).toBe('');
  });

  it('does not return a connection to the pool when the client leaves in the middle of an unsynced extended query', () => {
    const a = fakeServer('a');
    const h = harness([a]);
    h.send(
      w.parse('', 'UPDATE t SET n = n + 1'),
      w.bind({ portal: '', statement: '' }),
      w.execute(''),
      w.flush(),
    );
    expect(types(a.socket.takeWritten())).toBe('PBEH');
    h.reply(a, w.parseComplete(), w.bindComplete(), w.commandComplete('UPDATE 1'));
    h.send(w.terminate());
    // Without a Sync the UPDATE is still uncommitted in an implicit transaction: the next client's Query would commit it.
    expect(h.released).toEqual([]);
    expect(h.destroyed).toEqual(['a']);
  });

  it('does not record session settings as applied when the query applying them failed', async () => {
    const a = fakeServer('a');
    const h = harness([a], new Map([['TimeZone', 'Mars/Olympus']]));
    h.send(w.query('SELECT 1'));
    const sent = w.splitMessages(a.socket.takeWritten());
    expect(sent.map((m) => m.type).join('')).toBe('QQ');
    h.reply(
      a,
      w.simpleError('22023', 'invalid value for parameter "TimeZone": "Mars/Olympus"'),
      w.readyForQuery('I'),
    );
    await new Promise((r) => setImmediate(r));
    expect(a.session.setting('TimeZone')).toBeUndefined();
  });
});
