// A byte-level PostgreSQL client for tests that need exact messages: malformed input, message order, keys.
import net from 'node:net';
import { ScramClientSession } from '../../../src/auth/scram.js';
import { md5Response } from '../../../src/auth/md5.js';
import * as fe from '../../../src/protocol/frontend-messages.js';
import { MessageWriter } from '../../../src/protocol/writer.js';

export interface BackendMessage {
  /** The type byte as a character, e.g. 'Z', 'E', '1'. */
  type: string;
  body: Buffer;
}

export interface ErrorFields {
  severity?: string;
  code?: string;
  message?: string;
  hint?: string;
}

/** Reads the fields of an ErrorResponse or NoticeResponse body. */
export function errorFields(body: Buffer): ErrorFields {
  const out: ErrorFields = {};
  let pos = 0;
  while (pos < body.length && body[pos] !== 0) {
    const field = String.fromCharCode(body[pos]);
    const end = body.indexOf(0, pos + 1);
    const value = body.toString('utf8', pos + 1, end);
    if (field === 'V') out.severity = value;
    if (field === 'C') out.code = value;
    if (field === 'M') out.message = value;
    if (field === 'H') out.hint = value;
    pos = end + 1;
  }
  return out;
}

export interface LoginOptions {
  user: string;
  password?: string;
  database: string;
  params?: Record<string, string>;
}

export interface LoginResult {
  params: Map<string, string>;
  pid: number;
  secret: number;
}

export class RawConnection {
  private buf = Buffer.alloc(0);
  private wake: (() => void) | null = null;
  private ended = false;
  readonly closed: Promise<void>;

  private readonly onData = (chunk: Buffer) => {
    this.buf = Buffer.concat([this.buf, chunk]);
    this.wake?.();
  };

  private constructor(readonly socket: net.Socket) {
    socket.on('data', this.onData);
    socket.on('error', () => {});
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.ended = true;
        this.wake?.();
        resolve();
      }),
    );
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new RawConnection(socket));
      });
    });
  }

  /** Connects and logs in (SCRAM, md5 or trust, whatever the server asks for) up to ReadyForQuery. */
  static async login(
    port: number,
    opts: LoginOptions,
    host = '127.0.0.1',
  ): Promise<{ conn: RawConnection } & LoginResult> {
    const conn = await RawConnection.connect(port, host);
    const result = await conn.startup(opts);
    return { conn, ...result };
  }

  write(b: Buffer | Uint8Array): void {
    this.socket.write(b);
  }

  /** Everything received but not yet read as messages. */
  get pending(): number {
    return this.buf.length;
  }

  private async waitForBytes(n: number): Promise<boolean> {
    while (this.buf.length < n) {
      if (this.ended) return false;
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = null;
    }
    return true;
  }

  /** The next byte, for the one-byte answers to SSLRequest and GSSENCRequest. */
  async byte(): Promise<number> {
    if (!(await this.waitForBytes(1))) throw new Error('connection closed before a byte arrived');
    const b = this.buf[0];
    this.buf = this.buf.subarray(1);
    return b;
  }

  /** The next message, or null when the connection closed first; throws after `timeoutMs` of silence. */
  async next(timeoutMs = 15_000): Promise<BackendMessage | null> {
    let timer: NodeJS.Timeout | undefined;
    const silence = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no reply from the server within ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([this.nextMessage(), silence]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async nextMessage(): Promise<BackendMessage | null> {
    if (!(await this.waitForBytes(5))) return null;
    const len = this.buf.readInt32BE(1);
    if (!(await this.waitForBytes(1 + len))) return null;
    const msg = { type: String.fromCharCode(this.buf[0]), body: Buffer.from(this.buf.subarray(5, 1 + len)) };
    this.buf = this.buf.subarray(1 + len);
    return msg;
  }

  /** Messages up to and including ReadyForQuery; throws if the connection closes or goes silent first. */
  async untilReady(timeoutMs?: number): Promise<BackendMessage[]> {
    const out: BackendMessage[] = [];
    for (;;) {
      const m = await this.next(timeoutMs).catch((err: Error) => {
        throw new Error(`${err.message}; received so far: ${out.map((x) => x.type).join('')}`);
      });
      if (!m) throw new Error(`connection closed after ${out.map((x) => x.type).join('')}`);
      out.push(m);
      if (m.type === 'Z') return out;
    }
  }

  /** Every message until the server closes the connection. */
  async untilClosed(): Promise<BackendMessage[]> {
    const out: BackendMessage[] = [];
    for (let m = await this.next(); m; m = await this.next()) out.push(m);
    return out;
  }

  async startup(opts: LoginOptions): Promise<LoginResult> {
    this.write(fe.startupMessage({ user: opts.user, database: opts.database, ...opts.params }));
    let scram: ScramClientSession | null = null;
    const params = new Map<string, string>();
    let pid = 0;
    let secret = 0;
    for (;;) {
      const m = await this.next();
      if (!m) throw new Error('connection closed during login');
      if (m.type === 'E') {
        const f = errorFields(m.body);
        throw Object.assign(new Error(f.message), { code: f.code });
      }
      if (m.type === 'S') {
        const nameEnd = m.body.indexOf(0);
        params.set(
          m.body.toString('utf8', 0, nameEnd),
          m.body.toString('utf8', nameEnd + 1, m.body.length - 1),
        );
      }
      if (m.type === 'K') {
        pid = m.body.readInt32BE(0);
        secret = m.body.readInt32BE(4);
      }
      if (m.type === 'Z') return { params, pid, secret };
      if (m.type !== 'R') continue;
      const kind = m.body.readInt32BE(0);
      if (kind === 5)
        this.write(fe.passwordMessage(md5Response(opts.user, opts.password ?? '', m.body.subarray(4, 8))));
      if (kind === 10) {
        scram = new ScramClientSession(opts.password ?? '');
        this.write(fe.saslInitialResponse('SCRAM-SHA-256', scram.clientFirst()));
      }
      if (kind === 11) this.write(fe.saslResponse(scram!.handleServerFirst(m.body.toString('utf8', 4))));
      if (kind === 12) scram!.verifyServerFinal(m.body.toString('utf8', 4));
    }
  }

  /** Stops collecting replies, for tests that read the socket themselves (e.g. to apply backpressure). */
  detach(): net.Socket {
    this.socket.off('data', this.onData);
    return this.socket;
  }

  end(): void {
    this.socket.end(fe.terminate);
  }

  destroy(): void {
    this.socket.destroy();
  }
}

// Client messages the tests send (the proxy's own builders cover only its login needs).

export const query = fe.query;
export const sync = fe.sync;
export const flush = Buffer.from([0x48, 0, 0, 0, 4]);

export function parse(name: string, sql: string, paramTypes: number[] = []): Buffer {
  const w = new MessageWriter(0x50).cstring(name).cstring(sql).int16(paramTypes.length);
  for (const t of paramTypes) w.int32(t);
  return w.finish();
}

/** Bind with text-format parameters and results. */
export function bind(portal: string, statement: string, values: (string | null)[] = []): Buffer {
  const w = new MessageWriter(0x42).cstring(portal).cstring(statement).int16(0).int16(values.length);
  for (const v of values) {
    if (v === null) w.int32(-1);
    else {
      const b = Buffer.from(v);
      w.int32(b.length).bytes(b);
    }
  }
  return w.int16(0).finish();
}

export function execute(portal = '', maxRows = 0): Buffer {
  return new MessageWriter(0x45).cstring(portal).int32(maxRows).finish();
}

export function describe(kind: 'S' | 'P', name: string): Buffer {
  return new MessageWriter(0x44).int8(kind.charCodeAt(0)).cstring(name).finish();
}

export function close(kind: 'S' | 'P', name: string): Buffer {
  return new MessageWriter(0x43).int8(kind.charCodeAt(0)).cstring(name).finish();
}

/** The text of each DataRow's first column. */
export function firstColumns(messages: BackendMessage[]): (string | null)[] {
  return messages
    .filter((m) => m.type === 'D')
    .map((m) => {
      const len = m.body.readInt32BE(2);
      return len < 0 ? null : m.body.toString('utf8', 6, 6 + len);
    });
}

/** The type characters of a reply, e.g. "12DCZ", handy for comparing message order with PostgreSQL. */
export function types(messages: BackendMessage[]): string {
  return messages.map((m) => m.type).join('');
}
