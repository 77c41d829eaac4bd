// Client login: SSL/GSS negotiation, StartupMessage or CancelRequest, then password authentication.
import crypto from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import { ScramServerSession } from '../auth/scram.js';
import { verifyMd5Response } from '../auth/md5.js';
import { mockScramSecret, scramSecretFor } from '../auth/scram-secrets.js';
import * as be from '../protocol/backend-messages.js';
import { Frontend } from '../protocol/codes.js';
import { MalformedMessage, MessageReader } from '../protocol/reader.js';
import { decodeStartupPacket } from '../protocol/startup.js';
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

/** Runs the login; returns null for a cancel request; throws ProxyError for anything the client must be told. */
export async function clientLogin(raw: net.Socket, opts: LoginOptions): Promise<LoginResult | null> {
  let socket: Duplex = raw;
  let reader = new SocketReader(socket);
  for (;;) {
    const packet = decodeStartupPacket(await reader.packet(0, opts.maxStartupBytes));
    if (packet.kind === 'cancel') {
      reader.detach();
      opts.onCancel(packet.pid, packet.secret);
      return null;
    }
    if (packet.kind === 'gssenc') {
      socket.write('N');
      continue;
    }
    if (packet.kind === 'ssl') {
      if (!opts.tls || socket !== raw) {
        socket.write('N');
        continue;
      }
      // Bytes after SSLRequest but before the handshake would bypass encryption: refuse them.
      if (reader.pendingBytes() > 0)
        throw new ProxyError(
          'protocolViolation',
          'received unencrypted data after SSL request',
          undefined,
          'FATAL',
        );
      reader.detach();
      raw.write('S');
      const secure = new tls.TLSSocket(raw, { isServer: true, secureContext: opts.tls });
      await new Promise<void>((resolve, reject) => {
        secure.once('secure', resolve);
        secure.once('error', reject);
      });
      socket = secure;
      reader = new SocketReader(socket);
      continue;
    }
    if (packet.major !== 3) {
      throw new ProxyError(
        'featureNotSupported',
        `unsupported frontend protocol ${packet.major}.${packet.minor}: server supports 3.0`,
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
        'no user name given in the startup message',
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

function authFailed(userName: string): ProxyError {
  return new ProxyError(
    'invalidPassword',
    `password authentication failed for user "${userName}"`,
    undefined,
    'FATAL',
  );
}

async function passwordMessage(reader: SocketReader): Promise<MessageReader> {
  const msg = await reader.packet(1, 65536);
  if (msg[0] !== Frontend.PasswordMessage) throw new MalformedMessage('expected a password message');
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
    const response = (await passwordMessage(reader)).cstring();
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
  const first = await passwordMessage(reader);
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
  const final = session.handleClientFinal((await passwordMessage(reader)).rest().toString());
  if (!final.ok || !user) throw authFailed(userName);
  socket.write(be.authenticationSASLFinal(final.serverFinal));
}
