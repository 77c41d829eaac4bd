// One psql connection to the admin database: checks the user is an admin, then answers simple queries.
import crypto from 'node:crypto';
import type { Duplex } from 'node:stream';
import { ProxyError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { SocketInput } from '../../net/socket-input.js';
import * as be from '../../protocol/backend-messages.js';
import { Frontend, TxStatus } from '../../protocol/codes.js';
import { FramingError, MessageFramer } from '../../protocol/framer.js';
import { findCommand } from './commands.js';
import { encodeResult } from './console-result.js';
import type { ConsoleSource } from './console-source.js';
import { parseCommands } from './parse-command.js';

/** Admin queries are short; anything bigger is a mistake, not a command. */
const maxMessageBytes = 1 << 20;

/** What psql and drivers expect at login; the version tells them this is no ordinary PostgreSQL. */
const serverParams: [string, string][] = [
  ['server_version', '16.0 (polyproxy admin console)'],
  ['server_encoding', 'UTF8'],
  ['client_encoding', 'UTF8'],
  ['DateStyle', 'ISO, MDY'],
  ['integer_datetimes', 'on'],
  ['standard_conforming_strings', 'on'],
];

export class ConsoleSession {
  private readonly socket: Duplex;
  private readonly framer = new MessageFramer(maxMessageBytes);
  /** Queries run one after another: PAUSE may take a while, and answers must keep their order. */
  private chain: Promise<void> = Promise.resolve();
  /** After an extended-protocol message: skip until Sync, as PostgreSQL does after an error. */
  private skipping = false;

  constructor(
    private readonly input: SocketInput,
    private readonly user: string,
    private readonly isAdmin: boolean,
    private readonly source: ConsoleSource,
    private readonly log: Logger,
  ) {
    this.socket = input.socket;
  }

  start(leftover: Buffer): void {
    this.socket.on('error', () => {});
    if (!this.isAdmin) {
      this.log.info('admin console refused', { user: this.user });
      this.fail(
        new ProxyError(
          'insufficientPrivilege',
          `user "${this.user}" may not use the admin console`,
          'set admin: true on the user in the proxy configuration',
          'FATAL',
        ),
      );
      this.socket.end();
      return;
    }
    const parts = serverParams.map(([k, v]) => be.parameterStatus(k, v));
    const pid = crypto.randomInt(1, 0x7fffffff);
    parts.push(be.backendKeyData(pid, crypto.randomInt(0, 0x7fffffff)), be.readyForQuery(TxStatus.Idle));
    this.socket.write(Buffer.concat(parts));
    this.log.info('admin console connected', { user: this.user });
    this.input.handler = (chunk) => this.onData(chunk);
    if (leftover.length > 0) this.onData(leftover);
  }

  private onData(chunk: Buffer): void {
    try {
      this.framer.feed(chunk, (type, buf, start, end) => this.onMessage(type, buf, start, end));
    } catch (err) {
      if (!(err instanceof FramingError)) throw err;
      this.fail(new ProxyError('protocolViolation', `invalid message: ${err.message}`, undefined, 'FATAL'));
      this.socket.end();
    }
  }

  private onMessage(type: number, buf: Buffer, start: number, end: number): void {
    if (type === Frontend.Terminate) {
      this.socket.end();
      return;
    }
    if (type === Frontend.Query) {
      // The text ends with a NUL; copied now, since the read buffer is reused.
      const query = buf.toString('utf8', start + 5, end - 1);
      this.chain = this.chain.then(() => this.runQuery(query));
      return;
    }
    if (type === Frontend.Sync) {
      this.skipping = false;
      this.chain = this.chain.then(() => void this.socket.write(be.readyForQuery(TxStatus.Idle)));
      return;
    }
    if (type === Frontend.Flush || this.skipping) return;
    this.skipping = true;
    this.fail(
      new ProxyError(
        'featureNotSupported',
        'the admin console accepts the simple query protocol only',
        'with psql this just works; from a driver, send the command as a simple query',
      ),
    );
  }

  private async runQuery(query: string): Promise<void> {
    const commands = parseCommands(query);
    const out: Buffer[] = [];
    if (commands.length === 0) out.push(be.emptyQueryResponse);
    for (const parsed of commands) {
      try {
        const { command, args } = findCommand(parsed);
        this.log.info('admin command', { user: this.user, command: command.name, args });
        out.push(...encodeResult(await command.run(this.source, args)));
      } catch (err) {
        out.push(errorMessage(err));
        break;
      }
    }
    out.push(be.readyForQuery(TxStatus.Idle));
    if (!this.socket.destroyed) this.socket.write(Buffer.concat(out));
  }

  private fail(err: ProxyError): void {
    if (!this.socket.destroyed) this.socket.write(errorMessage(err));
  }
}

function errorMessage(err: unknown): Buffer {
  if (err instanceof ProxyError)
    return be.errorResponse({
      severity: err.severity,
      sqlstate: err.sqlstate,
      message: err.message,
      hint: err.hint,
    });
  const message = err instanceof Error ? err.message : String(err);
  return be.errorResponse({ severity: 'ERROR', sqlstate: 'XX000', message });
}
