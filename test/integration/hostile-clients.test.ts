// Malformed and hostile clients: answered byte for byte as PostgreSQL 15 answers them, logged, and never left
// holding a descriptor, a login slot or a pooled server connection.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/logger.js';
import * as fe from '../../src/protocol/frontend-messages.js';
import { MessageWriter } from '../../src/protocol/writer.js';
import { startProxy, type Proxy } from '../../src/proxy.js';
import { freePort } from '../../src/sandbox/ports.js';
import { startCluster, type Cluster } from '../../src/sandbox/postgres.js';
import { directConfig, startTestProxy, testConfigYaml, type TestProxy } from './helpers/proxy.js';
import { RawConnection, errorFields, query, type LoginOptions } from './helpers/raw-client.js';
import { openDescriptors, proxySideSockets, settlesTo } from './helpers/sockets.js';
import { connect, sleep } from './helpers/tools.js';
import { createAppDatabase, shardedDatabasesYaml } from './sharding-helpers.js';

const logLines: { level: string; msg: string; reason?: string }[] = [];
let proxy: Proxy;
let port: number;

beforeAll(async () => {
  const address = { port: await freePort(), adminPort: await freePort() };
  const config = parseConfig(testConfigYaml({ ...address, poolSize: 1 }), {}, 'hostile.yaml');
  const logger = createLogger({
    level: 'debug',
    format: 'json',
    write: (line) => logLines.push(JSON.parse(line) as (typeof logLines)[number]),
  });
  proxy = await startProxy(config, { logger });
  port = proxy.address.port;
});

afterAll(() => proxy?.close());

const appLogin: LoginOptions = { user: 'app', password: 'app-secret', database: 'app' };

function directLogin(): LoginOptions {
  const c = directConfig();
  return { user: c.user!, password: c.password as string, database: 'app' };
}

/** A step of a raw exchange: bytes to write, the client's half-close, or the wait for a one-byte answer. */
type Step = Buffer | 'end' | 'answer';

interface Outcome {
  /** The one-byte answers to SSLRequest and GSSENCRequest. */
  answers: string;
  /** Everything sent after them. */
  rest: Buffer;
  closed: boolean;
}

/** Runs the steps and collects what comes back until the server closes (or 10 s pass). */
async function exchange(serverPort: number, steps: Step[]): Promise<Outcome> {
  const socket = net.connect({ host: '127.0.0.1', port: serverPort });
  socket.on('error', () => {});
  let buf = Buffer.alloc(0);
  let wake: (() => void) | null = null;
  socket.on('data', (c: Buffer) => {
    buf = Buffer.concat([buf, c]);
    wake?.();
  });
  let timer: NodeJS.Timeout | undefined;
  const closed = new Promise<boolean>((resolve) => {
    socket.once('close', () => {
      wake?.();
      resolve(true);
    });
    timer = setTimeout(() => resolve(false), 10_000);
  });
  await new Promise((resolve) => socket.once('connect', resolve));
  let answers = '';
  for (const step of steps) {
    if (step === 'end') socket.end();
    else if (step === 'answer') {
      while (buf.length === 0 && !socket.destroyed) await new Promise<void>((r) => (wake = r));
      answers += buf.subarray(0, 1).toString('latin1');
      buf = buf.subarray(1);
    } else socket.write(step);
  }
  const done = await closed;
  clearTimeout(timer);
  socket.destroy();
  return { answers, rest: buf, closed: done };
}

/** Messages as comparable data; errors by the fields PostgreSQL and the proxy both send (not file/line/routine). */
function messages(rest: Buffer): unknown[] {
  const out: unknown[] = [];
  let pos = 0;
  while (pos + 5 <= rest.length && rest.readInt32BE(pos + 1) >= 4) {
    const type = String.fromCharCode(rest[pos]);
    const end = pos + 1 + rest.readInt32BE(pos + 1);
    if (type === 'E') {
      const f = errorFields(rest.subarray(pos + 5, end));
      out.push({ type, severity: f.severity, code: f.code, message: f.message });
    } else out.push({ type });
    pos = end;
  }
  if (pos < rest.length) out.push({ trailing: rest.subarray(pos).toString('hex') });
  return out;
}

const startup = (version: number, params: [string, string][] = [['user', 'app']]) => {
  const w = new MessageWriter(null).int32(version);
  for (const [k, v] of params) w.cstring(k).cstring(v);
  return w.int8(0).finish();
};
const sslRequest = fe.sslRequest;
const gssencRequest = new MessageWriter(null).int32(80877104).finish();

describe('startup input compared with PostgreSQL 15', () => {
  const unterminated = Buffer.from(startup(196608).subarray(0, -1));
  unterminated.writeInt32BE(unterminated.length, 0);
  const longCancel = Buffer.concat([fe.cancelRequest(1, 2), Buffer.alloc(4)]);
  longCancel.writeInt32BE(longCancel.length, 0);
  const cases: [string, Step[]][] = [
    ['an invalid length', [Buffer.from([0, 0, 0, 2, 0, 0])]],
    ['a length over the limit', [Buffer.from([0, 0, 0xff, 0xff, 0, 3, 0, 0])]],
    ['a Terminate before the startup message', [fe.terminate]],
    ['an HTTP request', [Buffer.from('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n')]],
    ['an empty connection', ['end']],
    ['half a length word', [Buffer.from([0, 0]), 'end']],
    ['a startup packet cut short', [startup(196608).subarray(0, 12), 'end']],
    ['a CancelRequest of 20 bytes', [longCancel]],
    ['protocol 4660.22136', [startup(0x12345678)]],
    ['protocol 4.0', [startup(4 << 16)]],
    ['protocol 2.0 (answered in its own format)', [startup(2 << 16)]],
    ['an unterminated parameter list', [unterminated]],
    ['no user name', [startup(196608, [['database', 'app']])]],
    ['a second SSLRequest after N', [sslRequest, 'answer', sslRequest]],
    ['a startup packet in the same write as SSLRequest', [Buffer.concat([sslRequest, startup(196608)])]],
  ];

  for (const [name, steps] of cases) {
    it(`answers ${name} as PostgreSQL does`, async () => {
      const direct = await exchange(directConfig().port!, steps);
      const proxied = await exchange(port, steps);
      expect(direct.closed).toBe(true);
      expect(proxied.closed).toBe(true);
      expect(proxied.answers).toBe(direct.answers);
      // Nothing, or an error of protocol 2 ('E' and a string): the very same bytes. Else the same messages.
      if (direct.rest.length === 0 || direct.rest.subarray(0, 6).toString() === 'EFATAL')
        expect(proxied.rest.toString('hex')).toBe(direct.rest.toString('hex'));
      else expect(messages(proxied.rest)).toEqual(messages(direct.rest));
    });
  }

  it('refuses a second GSSENCRequest as PostgreSQL refuses a second encryption request', async () => {
    const out = await exchange(port, [gssencRequest, 'answer', gssencRequest]);
    expect(out.answers).toBe('N');
    expect(messages(out.rest)).toEqual([
      {
        type: 'E',
        severity: 'FATAL',
        code: '0A000',
        message: 'unsupported frontend protocol 1234.5680: server supports 3.0 to 3.0',
      },
    ]);
  });

  it('logs what it dropped: malformed startup input at info, an empty connection at debug', () => {
    const dropped = logLines.filter((l) => l.msg === 'connection closed during login');
    expect(dropped.filter((l) => l.level === 'info').map((l) => l.reason)).toEqual(
      expect.arrayContaining(['invalid length of startup packet', 'incomplete startup packet']),
    );
    expect(dropped.filter((l) => l.level === 'debug').map((l) => l.reason)).toContain(
      'connection closed before a startup packet',
    );
  });
});

describe('unknown frontend messages after login', () => {
  const unknown = new MessageWriter(0x41).cstring('junk').finish();

  it('ends the connection with 08P01 "invalid frontend message type" like PostgreSQL', async () => {
    for (const bad of [unknown, fe.passwordMessage('again')]) {
      const direct = await RawConnection.login(directConfig().port!, directLogin());
      direct.conn.write(bad);
      const expected = messages(Buffer.concat(await rawReplies(direct.conn)));
      const proxied = await RawConnection.login(port, appLogin);
      proxied.conn.write(bad);
      expect(messages(Buffer.concat(await rawReplies(proxied.conn)))).toEqual(expected);
      expect(expected).toEqual([
        {
          type: 'E',
          severity: 'FATAL',
          code: '08P01',
          message: `invalid frontend message type ${bad[0]}`,
        },
      ]);
    }
  });

  it('never lets a bad message poison the one pooled server connection: a bystander sees no error', async () => {
    await bystanderSeesNoError(port);
  });

  describe('of a sharded database', () => {
    let cluster: Cluster;
    let sharded: TestProxy;

    beforeAll(async () => {
      cluster = await startCluster({ shards: 2, replicasPerShard: 0 });
      await createAppDatabase(cluster);
      const databasesYaml = shardedDatabasesYaml({
        cluster,
        poolSize: 1,
        sharding: { tables: { users: 'id' } },
      });
      sharded = await startTestProxy({ databasesYaml });
    });

    afterAll(async () => {
      await sharded?.close();
      await cluster?.stop();
    });

    it('never lets a bad message poison a shard connection either', async () => {
      await bystanderSeesNoError(sharded.port);
    });
  });
});

/** 50 clients send bad messages (after, with or without statements) while a bystander on the same pool runs queries. */
async function bystanderSeesNoError(proxyPort: number): Promise<void> {
  const unknown = new MessageWriter(0x41).cstring('junk').finish();
  const bystander = await connect({ ...appClient(proxyPort), statement_timeout: 10_000 });
  let stop = false;
  let errors = 0;
  let runs = 0;
  const loop = (async () => {
    for (let i = 0; !stop && i < 100_000; i++) {
      try {
        const r = await bystander.query('SELECT $1::int AS i', [i]);
        if (r.rows[0].i !== i) errors++;
      } catch {
        errors++;
      }
      runs++;
    }
  })();
  try {
    for (let i = 0; i < 50; i++) {
      const { conn } = await RawConnection.login(proxyPort, appLogin);
      if (i % 3 === 0) conn.write(Buffer.concat([query('SELECT 1'), unknown]));
      else if (i % 3 === 1) {
        // The statement reaches the server before the bad message arrives.
        conn.write(query('SELECT pg_sleep(0.01)'));
        await sleep(2);
        conn.write(unknown);
      } else conn.write(Buffer.concat([query('BEGIN'), fe.sync, fe.passwordMessage('x')]));
      const replies = messages(Buffer.concat(await rawReplies(conn)));
      const last = replies[replies.length - 1] as { code?: string };
      expect(last.code, `attempt ${i}`).toBe('08P01');
      // In one write with the bad message, a statement is refused with it, not half run.
      if (i % 3 !== 1) expect(replies).toHaveLength(1);
    }
  } finally {
    stop = true;
    await loop;
    await bystander.end();
  }
  expect(runs).toBeGreaterThan(0);
  expect(errors).toBe(0);
}

describe('refused logins hold no descriptor', () => {
  it('closes every refused login (unknown database, too many clients, wrong password) even if the client never reads', async () => {
    const limited = await startTestProxy({ limits: { max_client_connections: 2 } });
    const holders = await Promise.all([1, 2].map(() => RawConnection.login(limited.port, appLogin)));
    const fdsBefore = openDescriptors();
    const clients: net.Socket[] = [];
    try {
      const kinds = [
        // 3D000, then a Terminate the proxy must read past to see the client leave.
        () => Buffer.concat([fe.startupMessage({ user: 'trustuser', database: 'nosuchdb' }), fe.terminate]),
        // 53300 (the two holders fill max_client_connections), then a Terminate.
        () => Buffer.concat([fe.startupMessage({ user: 'trustuser', database: 'app' }), fe.terminate]),
        // 28P01 for a wrong md5 password sent without waiting for the salt.
        () =>
          Buffer.concat([
            fe.startupMessage({ user: 'md5user', database: 'app' }),
            fe.passwordMessage('md5bad'),
          ]),
      ];
      for (let wave = 0; wave < 6; wave++) {
        const batch = await Promise.all(
          Array.from({ length: 50 }, async (_, i) => {
            const s = net.connect({ host: '127.0.0.1', port: limited.port });
            s.on('error', () => {});
            await new Promise((r) => s.once('connect', r));
            s.write(kinds[(wave * 50 + i) % 3]());
            // Never read: half of them also half-close, the others keep their side open.
            s.pause();
            if (i % 2 === 0) s.end();
            return s;
          }),
        );
        clients.push(...batch);
      }
      expect(clients).toHaveLength(300);
      // Every client socket is still open on this side; the proxy's side of each must close.
      expect(await settlesTo(() => proxySideSockets(limited.port), 2, 20_000)).toBe(2);
    } finally {
      for (const s of clients) s.destroy();
      for (const h of holders) h.conn.destroy();
      await limited.close();
    }
    // And the process is back to its descriptors from before the flood (the test's own sockets are gone too).
    expect(await settlesTo(openDescriptors, fdsBefore + 5, 10_000)).toBeLessThanOrEqual(fdsBefore + 5);
  });

  it('bounds logins in progress: beyond limits.max_logins_in_progress a new client gets 53300 at once', async () => {
    const limited = await startTestProxy({ limits: { max_logins_in_progress: 5 } });
    const idle: net.Socket[] = [];
    try {
      for (let i = 0; i < 5; i++) {
        const s = net.connect({ host: '127.0.0.1', port: limited.port });
        s.on('error', () => {});
        await new Promise((r) => s.once('connect', r));
        idle.push(s);
      }
      const deadline = Date.now() + 10_000;
      while (proxySideSockets(limited.port) < 5 && Date.now() < deadline) await sleep(20);
      const refused = await exchange(limited.port, [
        fe.startupMessage({ user: 'trustuser', database: 'app' }),
      ]);
      expect(refused.closed).toBe(true);
      expect(messages(refused.rest)).toEqual([
        { type: 'E', severity: 'FATAL', code: '53300', message: 'sorry, too many clients already' },
      ]);
      for (const s of idle) s.destroy();
      await settlesTo(() => proxySideSockets(limited.port), 0, 10_000);
      const { conn } = await RawConnection.login(limited.port, appLogin);
      conn.write(query('SELECT 1'));
      await conn.untilReady();
      conn.end();
    } finally {
      for (const s of idle) s.destroy();
      await limited.close();
    }
  });
});

function appClient(proxyPort: number) {
  return { host: '127.0.0.1', port: proxyPort, user: 'app', password: 'app-secret', database: 'app' };
}

/** Every reply until the server closes, as raw message bytes. */
async function rawReplies(conn: RawConnection): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (const m of await conn.untilClosed()) {
    const head = Buffer.alloc(5);
    head[0] = m.type.charCodeAt(0);
    head.writeInt32BE(m.body.length + 4, 1);
    out.push(head, m.body);
  }
  return out;
}
