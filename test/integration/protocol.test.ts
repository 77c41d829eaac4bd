// Wire-level behaviour: exact replies compared with PostgreSQL's, malformed input, startup negotiation.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import * as fe from '../../src/protocol/frontend-messages.js';
import { MessageWriter } from '../../src/protocol/writer.js';
import { directConfig, startTestProxy, type TestProxy } from './helpers/proxy.js';
import {
  RawConnection,
  bind,
  close,
  describe as describeMsg,
  errorFields,
  execute,
  firstColumns,
  flush,
  parse,
  query,
  sync,
  types,
  type BackendMessage,
  type LoginOptions,
} from './helpers/raw-client.js';
import { connect, withClient } from './helpers/tools.js';

let proxy: TestProxy;
const maxMessageBytes = 1 << 20;

beforeAll(async () => {
  proxy = await startTestProxy({
    poolSize: 2,
    limits: { max_message_bytes: maxMessageBytes, max_startup_packet_bytes: 4096 },
  });
});

afterAll(() => proxy.close());

const appLogin: LoginOptions = { user: 'app', password: 'app-secret', database: 'app' };

function directLogin(): LoginOptions {
  const c = directConfig();
  return { user: c.user!, password: c.password as string, database: 'app' };
}

function directPort(): number {
  return directConfig().port!;
}

/** A reply as comparable data: type and body bytes. */
const comparable = (ms: BackendMessage[]) => ms.map((m) => ({ type: m.type, body: m.body.toString('hex') }));

/** How many ReadyForQuery replies a batch of client messages produces. */
function readyCount(batch: Buffer[]): number {
  return batch.filter((b) => b[0] === 0x53 || b[0] === 0x51).length;
}

async function runBatches(conn: RawConnection, batches: Buffer[][], between?: () => Promise<void>) {
  const replies: ReturnType<typeof comparable>[] = [];
  for (const batch of batches) {
    conn.write(Buffer.concat(batch));
    const reply: BackendMessage[] = [];
    for (let n = readyCount(batch); n > 0; n--) reply.push(...(await conn.untilReady()));
    replies.push(comparable(reply));
    await between?.();
  }
  return replies;
}

/**
 * Runs the same batches against PostgreSQL and through the proxy. Through the proxy a second client
 * holds one of the two server connections every other batch, so consecutive batches run on different
 * server connections (the pool hands out the most recently idle connection first).
 */
async function transcripts(batches: Buffer[][]) {
  const direct = await RawConnection.login(directPort(), directLogin());
  const expected = await runBatches(direct.conn, batches);
  direct.conn.end();

  const hog = await connect(proxy.client());
  const other = await connect(proxy.client());
  try {
    await hog.query('BEGIN');
    await hog.query('SELECT 1');
    await other.query('SELECT 1');
    await hog.query('COMMIT');
    const { conn } = await RawConnection.login(proxy.port, appLogin);
    let holding = false;
    const pids: number[] = [];
    const actual = await runBatches(conn, batches, async () => {
      // A probe on the connection the batch just used (the most recently idle one) before the hog moves.
      conn.write(query('SELECT pg_backend_pid()'));
      pids.push(Number(firstColumns(await conn.untilReady())[0]));
      await hog.query(holding ? 'COMMIT' : 'BEGIN');
      if (!holding) await hog.query('SELECT 1');
      holding = !holding;
    });
    conn.end();
    return { expected, actual, batchPids: pids };
  } finally {
    await Promise.all([hog.end(), other.end()]);
  }
}

describe('replies compared with PostgreSQL', () => {
  it('answers named statements used across server connections exactly like PostgreSQL', async () => {
    const batches = [
      [parse('s1', 'SELECT $1::int + 1 AS v'), sync],
      [bind('', 's1', ['41']), describeMsg('P', ''), execute(), sync],
      [describeMsg('S', 's1'), sync],
      [bind('', 's1', ['1']), execute(), bind('', 's1', ['2']), execute(), sync],
      [
        parse('s2', 'SELECT g FROM generate_series(1, $1::int) g'),
        bind('p', 's2', ['5']),
        execute('p', 2),
        execute('p', 2),
        execute('p', 2),
        sync,
      ],
      [bind('p2', 's2', ['3']), execute('p2', 0), sync],
      [close('S', 's1'), sync],
      [bind('', 's1', ['1']), execute(), sync],
      [describeMsg('S', 'never_prepared'), sync],
      [parse('bad', 'SELEC 1'), bind('', 'bad'), execute(), sync],
      [bind('', 'bad'), execute(), sync],
    ];
    const { expected, actual, batchPids } = await transcripts(batches);
    expect(batchPids[0]).not.toBe(batchPids[1]);
    expect(batchPids.filter((pid, i) => pid !== batchPids[i % 2])).toEqual([]);
    for (let i = 0; i < batches.length; i++)
      expect({ batch: i, reply: actual[i] }).toEqual({ batch: i, reply: expected[i] });
  });

  it('keeps ParseComplete in place when an unnamed Parse precedes a statement the proxy must prepare', async () => {
    const batches = [
      [parse('s_order', "SELECT 'named' AS n"), sync],
      [parse('', "SELECT 'unnamed' AS u"), bind('', ''), execute(), bind('', 's_order'), execute(), sync],
      [parse('', "SELECT 'unnamed' AS u"), bind('', ''), execute(), bind('', 's_order'), execute(), sync],
    ];
    const { expected, actual } = await transcripts(batches);
    expect(types(expected[1].map((m) => ({ type: m.type, body: Buffer.alloc(0) })))).toBe('12DC2DCZ');
    expect(actual).toEqual(expected);
  });

  it('rejects a second Parse of an existing statement name with 42P05 like PostgreSQL', async () => {
    const batches = [
      [parse('dup', 'SELECT 1'), sync],
      [parse('dup', 'SELECT 2'), sync],
      [bind('', 'dup'), execute(), sync],
    ];
    const { expected, actual } = await transcripts(batches);
    expect(errorFields(Buffer.from(expected[1][0].body, 'hex')).code).toBe('42P05');
    expect(actual).toEqual(expected);
  });

  it('answers simple queries with errors, empty queries and failed transactions exactly like PostgreSQL', async () => {
    const batches = [
      [query('SELECT 1 AS a; SELECT 1/0; SELECT 3')],
      [query('')],
      [query(';')],
      [query("BEGIN; SELECT 'in' AS t")],
      [query('SELEC')],
      [query('SELECT 1')],
      [query('ROLLBACK')],
      [query("SELECT 'after' AS t")],
    ];
    const { expected, actual } = await transcripts(batches);
    expect(actual).toEqual(expected);
  });

  it('keeps the connection for replies to messages sent after a Sync (pipelined Parse/Describe/Flush)', async () => {
    const { conn } = await RawConnection.login(proxy.port, appLogin);
    conn.write(
      Buffer.concat([
        query('SELECT 1 AS first'),
        parse('', 'SELECT $1::int AS second'),
        describeMsg('S', ''),
        flush,
      ]),
    );
    expect(types(await conn.untilReady())).toBe('TDCZ');
    const described = [await conn.next(), await conn.next(), await conn.next()];
    expect(described.map((m) => m!.type).join('')).toBe('1tT');
    conn.write(Buffer.concat([bind('', '', ['2']), execute(), sync]));
    const rest = await conn.untilReady();
    expect(types(rest)).toBe('2DCZ');
    expect(firstColumns(rest)).toEqual(['2']);
    conn.end();
  });

  it("keeps a client's unnamed statement when it prepares a statement another client already prepared", async () => {
    const batch = [
      parse('', "SELECT 'unnamed' AS u"),
      parse('s_shared', "SELECT 'shared' AS s"),
      bind('', ''),
      execute(),
      bind('', 's_shared'),
      execute(),
      sync,
    ];
    const direct = await RawConnection.login(directPort(), directLogin());
    const expected = await runBatches(direct.conn, [batch]);
    direct.conn.end();
    expect(expected[0].map((m) => m.type).join('')).toBe('112DC2DCZ');

    const single = await startTestProxy({ poolSize: 1 });
    try {
      await withClient(single.client(), (other) =>
        other.query({ name: 'other_name', text: "SELECT 'shared' AS s" }),
      );
      const { conn } = await RawConnection.login(single.port, appLogin);
      const actual = await runBatches(conn, [batch]);
      conn.end();
      expect(actual).toEqual(expected);
    } finally {
      await single.close();
    }
  });
});

describe('malformed client messages', () => {
  async function expectProtocolViolation(bytes: Buffer) {
    const bystander = await connect(proxy.client());
    try {
      await bystander.query('BEGIN');
      const { conn } = await RawConnection.login(proxy.port, appLogin);
      conn.write(bytes);
      const messages = await conn.untilClosed();
      expect(messages.map((m) => m.type)).toEqual(['E']);
      const err = errorFields(messages[0].body);
      expect(err.code).toBe('08P01');
      expect(err.severity).toBe('FATAL');
      expect((await bystander.query('SELECT 42 AS still')).rows).toEqual([{ still: 42 }]);
      await bystander.query('COMMIT');
      return err;
    } finally {
      await bystander.end();
    }
  }

  it('closes a connection that sends a message with length 2, others keep working', async () => {
    await expectProtocolViolation(Buffer.from([0x51, 0, 0, 0, 2, 0x41, 0x42]));
  });

  it('closes a connection that sends a negative message length', async () => {
    await expectProtocolViolation(Buffer.from([0x51, 0xff, 0xff, 0xff, 0xf0]));
  });

  it('closes a connection whose message is longer than limits.max_message_bytes, naming the limit', async () => {
    const header = Buffer.alloc(5);
    header[0] = 0x51;
    header.writeInt32BE(maxMessageBytes + 100, 1);
    const err = await expectProtocolViolation(Buffer.concat([header, Buffer.alloc(1000, 0x41)]));
    expect(err.message).toContain(String(maxMessageBytes));
  });

  it('closes a connection that sends a malformed message inside a transaction and rolls the transaction back', async () => {
    const { conn } = await RawConnection.login(proxy.port, appLogin);
    conn.write(query('BEGIN; CREATE TABLE malformed_in_tx (x int)'));
    await conn.untilReady();
    conn.write(Buffer.from([0x51, 0, 0, 0, 1]));
    const messages = await conn.untilClosed();
    expect(messages.map((m) => [m.type, errorFields(m.body).code])).toEqual([['E', '08P01']]);
    await withClient(proxy.client(), async (c) => {
      for (let i = 0; i < 3; i++) {
        expect((await c.query("SELECT to_regclass('malformed_in_tx') IS NULL AS gone")).rows).toEqual([
          { gone: true },
        ]);
      }
    });
  });

  it('accepts a message just under limits.max_message_bytes', async () => {
    await withClient(proxy.client(), async (c) => {
      const text = 'x'.repeat(maxMessageBytes - 200);
      const r = await c.query('SELECT length($1::text) AS n', [text]);
      expect(r.rows).toEqual([{ n: text.length }]);
    });
  });
});

describe('startup', () => {
  async function startupAnswer(bytes: Buffer): Promise<BackendMessage[]> {
    const conn = await RawConnection.connect(proxy.port);
    conn.write(bytes);
    return conn.untilClosed();
  }

  it('closes the connection of an HTTP request on the PostgreSQL port without a reply, as PostgreSQL does', async () => {
    const messages = await startupAnswer(Buffer.from('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n'));
    expect(messages).toEqual([]);
  });

  it('answers a startup packet with an unknown protocol version with 0A000 and closes', async () => {
    const packet = new MessageWriter(null).int32(0x12345678).cstring('user').cstring('app').int8(0).finish();
    const messages = await startupAnswer(packet);
    expect(messages.map((m) => m.type)).toEqual(['E']);
    expect(errorFields(messages[0].body).code).toBe('0A000');
  });

  it('answers an unterminated startup packet with 08P01, and closes on one over max_startup_packet_bytes', async () => {
    const unterminated = new MessageWriter(null)
      .int32(196608)
      .cstring('user')
      .bytes(Buffer.from('app'))
      .finish();
    expect((await startupAnswer(unterminated)).map((m) => errorFields(m.body).code)).toEqual(['08P01']);
    const huge = Buffer.alloc(8);
    huge.writeInt32BE(5000, 0);
    huge.writeInt32BE(196608, 4);
    expect(await startupAnswer(huge)).toEqual([]);
    const tiny = Buffer.from([0, 0, 0, 2, 0, 0]);
    expect(await startupAnswer(tiny)).toEqual([]);
  });

  it('rejects a startup packet without a user name with 28000', async () => {
    const packet = fe.startupMessage({ database: 'app' });
    const messages = await startupAnswer(packet);
    expect(messages.map((m) => [m.type, errorFields(m.body).code])).toEqual([['E', '28000']]);
  });

  it("answers SSLRequest with 'N' when TLS is not configured and GSSENCRequest with 'N', then logs in", async () => {
    const conn = await RawConnection.connect(proxy.port);
    conn.write(fe.sslRequest);
    expect(String.fromCharCode(await conn.byte())).toBe('N');
    conn.write(new MessageWriter(null).int32(80877104).finish());
    expect(String.fromCharCode(await conn.byte())).toBe('N');
    await conn.startup(appLogin);
    conn.write(query('SELECT 1'));
    expect(types(await conn.untilReady())).toBe('TDCZ');
    conn.end();
  });

  it('negotiates the protocol version and unknown _pq_ options like PostgreSQL', async () => {
    const packet = (login: LoginOptions) =>
      new MessageWriter(null)
        .int32((3 << 16) | 2)
        .cstring('user')
        .cstring(login.user)
        .cstring('database')
        .cstring('app')
        .cstring('_pq_.made_up')
        .cstring('1')
        .int8(0)
        .finish();
    const first = async (port: number, login: LoginOptions) => {
      const conn = await RawConnection.connect(port);
      conn.write(packet(login));
      const m = await conn.next();
      conn.destroy();
      return m;
    };
    const direct = await first(directPort(), directLogin());
    const proxied = await first(proxy.port, appLogin);
    expect(direct?.type).toBe('v');
    expect(proxied?.type).toBe('v');
    expect(proxied?.body.toString('hex')).toBe(direct?.body.toString('hex'));
  });

  it('runs a query sent in the same packet as the startup message (trust user)', async () => {
    const conn = await RawConnection.connect(proxy.port);
    conn.write(
      Buffer.concat([
        fe.startupMessage({ user: 'trustuser', database: 'app' }),
        query("SELECT 'early' AS e"),
      ]),
    );
    const login = await conn.untilReady();
    expect(login[0].type).toBe('R');
    const reply = await conn.untilReady();
    expect(types(reply)).toBe('TDCZ');
    expect(firstColumns(reply)).toEqual(['early']);
    conn.end();
  });

  it('keeps serving clients that connect after malformed ones', async () => {
    const rows = await withClient(proxy.client(), (c: pg.Client) => c.query('SELECT 1 AS ok'));
    expect(rows.rows).toEqual([{ ok: 1 }]);
  });
});
