// Client login: SSL/GSS negotiation, StartupMessage or CancelRequest, then password authentication.
import crypto from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import { ScramServerSession } from '../auth/scram.js';
import { verifyMd5Response } from '../auth/md5.js';
import { mockScramSecret, scramSecretFor } from '../auth/scram-secrets.js';
import * as be from '../protocol/backend-messages.js';
import { Frontend, StartupCode } from '../protocol/codes.js';
import { MessageReader } from '../protocol/reader.js';
import { DroppedStartup, UnsupportedProtocol, decodeStartupPacket } from '../protocol/startup.js';
import { ProxyError } from '../errors.js';
import { SocketReader } from './socket-reader.js';

export interface LoginUser {
  name: string;
  password?: string;
  auth: 'scram-sha-256' | 'md5' | 'trust';
}

export interface LoginOptions {
  maxStartupBytes: number;
  tls: tls.SecureContext | null;
  findUser(name: string): LoginUser | undefined;
  onCancel(pid: number, secret: number): void;
  /** TLS is up: from now on every byte to the client, errors included, goes through `secure`. */
  onSecure(secure: tls.TLSSocket): void;
}

export interface LoginResult {
  socket: Duplex;
  user: LoginUser;
  database: string;
  params: Map<string, string>;
  minorVersion: number;
  /** Bytes the client sent after its last login message (pipelined queries). */
  leftover: Buffer;
}

/**
 * More startup parameters than any driver sends (psql sends 5, JDBC about 8; each setting of `options` is one
 * more). PostgreSQL bounds only their size; each one is replayed on every server connection the client uses.
 */
export const maxStartupParameters = 100;

/** Runs the login; returns null for a cancel request; throws ProxyError for anything the client must be told. */
export async function clientLogin(raw: net.Socket, opts: LoginOptions): Promise<LoginResult | null> {
  let socket: Duplex = raw;
  let reader = new SocketReader(socket);
  // As PostgreSQL: one SSLRequest, and one GSSENCRequest unless TLS is up; another is refused (UnsupportedProtocol).
  let sslDone = false;
  let gssDone = false;
  for (;;) {
    const packet = decodeStartupPacket(await reader.startupPacket(opts.maxStartupBytes));
    if (packet.kind === 'cancel') {
      reader.detach();
      opts.onCancel(packet.pid, packet.secret);
      return null;
    }
    if (packet.kind === 'gssenc') {
      if (gssDone) throw new UnsupportedProtocol(StartupCode.GSSENCRequest);
      gssDone = true;
      socket.write('N');
      refuseEarlyBytes(reader, 'GSSAPI encryption request');
      continue;
    }
    if (packet.kind === 'ssl') {
      if (sslDone) throw new UnsupportedProtocol(StartupCode.SSLRequest);
      sslDone = true;
      if (!opts.tls) {
        socket.write('N');
        refuseEarlyBytes(reader, 'SSL request');
        continue;
      }
      refuseEarlyBytes(reader, 'SSL request');
      reader.detach();
      raw.write('S');
      socket = await handshake(raw, opts.tls);
      opts.onSecure(socket as tls.TLSSocket);
      gssDone = true;
      reader = new SocketReader(socket);
      continue;
    }
    if (packet.params.size > maxStartupParameters) {
      throw new ProxyError(
        'programLimitExceeded',
        `too many startup parameters: ${packet.params.size} (at most ${maxStartupParameters})`,
        undefined,
        'FATAL',
      );
    }
    const unsupported = [...packet.params.keys()].filter((k) => k.startsWith('_pq_.'));
    if (packet.minor > 0 || unsupported.length > 0)
      socket.write(be.negotiateProtocolVersion(3 << 16, unsupported));
    const userName = packet.params.get('user');
    if (!userName)
      throw new ProxyError(
        'invalidAuthorization',
        'no PostgreSQL user name specified in startup packet',
        undefined,
        'FATAL',
      );
    const database = packet.params.get('database') || userName;
    const user = opts.findUser(userName);
    await authenticate(socket, reader, userName, user);
    socket.write(be.authenticationOk);
    return {
      socket,
      user: user!,
      database,
      params: packet.params,
      minorVersion: packet.minor,
      leftover: reader.detach(),
    };
  }
}

/**
 * Bytes sent after an encryption request, before its answer, could have been injected by a man in the middle
 * (and would bypass encryption): PostgreSQL refuses them, whatever it answered.
 */
function refuseEarlyBytes(reader: SocketReader, request: string): void {
  if (reader.pendingBytes() > 0)
    throw new ProxyError(
      'protocolViolation',
      `received unencrypted data after ${request}`,
      undefined,
      'FATAL',
    );
}

/** The server side of the TLS handshake; a failed one is dropped without an answer, as PostgreSQL does. */
async function handshake(raw: net.Socket, context: tls.SecureContext): Promise<tls.TLSSocket> {
  const secure = new tls.TLSSocket(raw, { isServer: true, secureContext: context });
  // Errors after the handshake end the login through 'close' (see SocketReader); they must not go unheard.
  secure.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    secure.once('secure', resolve);
    secure.once('error', (err: Error) =>
      reject(new DroppedStartup(`could not accept SSL connection: ${err.message}`)),
    );
    secure.once('close', () =>
      reject(new DroppedStartup('connection closed during the SSL handshake', true)),
    );
  });
  return secure;
}

function authFailed(userName: string): ProxyError {
  return new ProxyError(
    'invalidPassword',
    `password authentication failed for user "${userName}"`,
    undefined,
    'FATAL',
  );
}

/** The client's next password message; `what` names it in the error PostgreSQL sends for any other message. */
async function passwordMessage(reader: SocketReader, what: 'SASL' | 'password'): Promise<MessageReader> {
  const msg = await reader.message(65536);
  if (msg[0] !== Frontend.PasswordMessage) {
    throw new ProxyError(
      'protocolViolation',
      `expected ${what} response, got message type ${msg[0]}`,
      undefined,
      'FATAL',
    );
  }
  return new MessageReader(msg, 5, msg.length);
}

async function authenticate(
  socket: Duplex,
  reader: SocketReader,
  userName: string,
  user: LoginUser | undefined,
) {
  if (user?.auth === 'trust') return;
  const password = user?.password;
  const isVerifier = password?.startsWith('SCRAM-SHA-256$') ?? false;
  if (user?.auth === 'md5' && !isVerifier) {
    const salt = crypto.randomBytes(4);
    socket.write(be.authenticationMD5(salt));
    const response = (await passwordMessage(reader, 'password')).cstring();
    if (!password || !verifyMd5Response(userName, password, salt, response)) throw authFailed(userName);
    return;
  }
  // SCRAM for unknown users too, so a client cannot tell which user names exist. A plain-text password's
  // secret is derived once per user, not per login (PBKDF2 would take milliseconds of the event loop).
  const session = new ScramServerSession(
    isVerifier
      ? { verifier: password }
      : { secret: password ? await scramSecretFor(userName, password) : mockScramSecret(userName) },
  );
  socket.write(be.authenticationSASL(['SCRAM-SHA-256']));
  const first = await passwordMessage(reader, 'SASL');
  const mechanism = first.cstring();
  if (mechanism !== 'SCRAM-SHA-256') {
    throw new ProxyError(
      'protocolViolation',
      `client selected an invalid SASL authentication mechanism "${mechanism}"`,
      undefined,
      'FATAL',
    );
  }
  const len = first.int32();
  const serverFirst = session.handleClientFirst(first.bytes(len).toString());
  socket.write(be.authenticationSASLContinue(serverFirst));
  const final = session.handleClientFinal((await passwordMessage(reader, 'SASL')).rest().toString());
  if (!final.ok || !user) throw authFailed(userName);
  socket.write(be.authenticationSASLFinal(final.serverFinal));
}
