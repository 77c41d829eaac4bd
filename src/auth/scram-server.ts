// Server side of SCRAM-SHA-256 (clients authenticating to the proxy), following PostgreSQL's rules.
import { AuthError } from './errors.js';
import {
  DEFAULT_SCRAM_ITERATIONS,
  SCRAM_KEY_LENGTH,
  constantTimeEqual,
  decodeBase64,
  deriveScramSecret,
  hmac,
  parseScramVerifier,
  randomSalt,
  sha256,
  xor,
  type ScramSecret,
} from './scram-keys.js';
import { expectAttribute, isPrintable, parseAttributes, randomNonce } from './scram-messages.js';

export interface ScramServerOptions {
  /** Plain-text password; a verifier is derived from it once per session. */
  password?: string;
  /** A stored "SCRAM-SHA-256$..." verifier; takes precedence over `password`. */
  verifier?: string;
  /** An already derived secret (see scram-secrets.ts); takes precedence over both. */
  secret?: ScramSecret;
  /** Iterations and salt used when deriving from `password` (defaults: 4096, 16 random bytes). */
  iterations?: number;
  salt?: Buffer;
  /** Test-only: the server's nonce suffix instead of 18 random bytes. */
  serverNonce?: string;
}

export type ScramServerResult = { ok: true; serverFinal: string } | { ok: false; reason: string };

type State = 'awaitingFirst' | 'awaitingFinal' | 'done';

export class ScramServerSession {
  private readonly secret: ScramSecret;
  private readonly serverNonceSuffix: string;
  private state: State = 'awaitingFirst';
  private gs2Header = '';
  private nonce = '';
  private clientFirstBare = '';
  private serverFirst = '';

  constructor(options: ScramServerOptions) {
    if (options.secret !== undefined) {
      this.secret = options.secret;
    } else if (options.verifier !== undefined) {
      const parsed = parseScramVerifier(options.verifier);
      if (!parsed) throw new AuthError('stored password is not a SCRAM-SHA-256 verifier', 'invalidPassword');
      this.secret = parsed;
    } else if (options.password !== undefined) {
      const iterations = options.iterations ?? DEFAULT_SCRAM_ITERATIONS;
      this.secret = deriveScramSecret(options.password, iterations, options.salt ?? randomSalt());
    } else {
      throw new TypeError('ScramServerSession needs a password or a verifier');
    }
    this.serverNonceSuffix = options.serverNonce ?? randomNonce();
  }

  /** Takes the client-first-message (SASLInitialResponse data) and returns the server-first-message. */
  handleClientFirst(msg: string): string {
    if (this.state !== 'awaitingFirst') throw new AuthError('unexpected SCRAM client-first-message');
    this.state = 'done'; // any exception below ends the exchange
    if (msg.startsWith('p='))
      throw new AuthError('SCRAM channel binding is not supported (use SCRAM-SHA-256)');
    // "y" means the client could do channel binding but believes the server cannot: fine without -PLUS.
    const m = /^([ny]),(.*?),(.*)$/s.exec(msg);
    if (!m) throw new AuthError('malformed SCRAM client-first-message: bad GS2 header');
    if (m[2] !== '') throw new AuthError('SCRAM authorization identity is not supported');
    const attrs = parseAttributes(m[3], 'client-first-message');
    // PostgreSQL takes the user name from the startup packet and ignores n= (it may be empty).
    expectAttribute(attrs, 0, 'n', 'client-first-message');
    const clientNonce = expectAttribute(attrs, 1, 'r', 'client-first-message');
    if (!isPrintable(clientNonce)) throw new AuthError('malformed SCRAM client-first-message: bad nonce');
    this.gs2Header = `${m[1]},${m[2]},`;
    this.clientFirstBare = m[3];
    this.nonce = clientNonce + this.serverNonceSuffix;
    const { salt, iterations } = this.secret;
    this.serverFirst = `r=${this.nonce},s=${salt.toString('base64')},i=${iterations}`;
    this.state = 'awaitingFinal';
    return this.serverFirst;
  }

  /**
   * Takes the client-final-message. Unparsable input throws AuthError (a protocol violation); a wrong
   * channel-binding echo, nonce or proof returns ok: false (report "password authentication failed").
   */
  handleClientFinal(msg: string): ScramServerResult {
    if (this.state !== 'awaitingFinal') throw new AuthError('unexpected SCRAM client-final-message');
    this.state = 'done';
    const attrs = parseAttributes(msg, 'client-final-message');
    const binding = expectAttribute(attrs, 0, 'c', 'client-final-message');
    const nonce = expectAttribute(attrs, 1, 'r', 'client-final-message');
    // Extensions may sit between r= and p=; p= must come last because it is cut off for AuthMessage.
    const proofB64 = expectAttribute(attrs, attrs.length - 1, 'p', 'client-final-message');
    const proof = decodeBase64(proofB64);
    if (proof?.length !== SCRAM_KEY_LENGTH)
      throw new AuthError('malformed SCRAM client-final-message: bad proof');

    if (binding !== Buffer.from(this.gs2Header).toString('base64')) {
      return { ok: false, reason: 'SCRAM channel binding check failed' };
    }
    if (nonce !== this.nonce) return { ok: false, reason: 'SCRAM nonce mismatch' };

    const withoutProof = msg.slice(0, msg.lastIndexOf(','));
    const authMessage = `${this.clientFirstBare},${this.serverFirst},${withoutProof}`;
    const clientSignature = hmac(this.secret.storedKey, authMessage);
    const clientKey = xor(proof, clientSignature);
    if (!constantTimeEqual(sha256(clientKey), this.secret.storedKey)) {
      return { ok: false, reason: 'SCRAM client proof does not match' };
    }
    const serverSignature = hmac(this.secret.serverKey, authMessage);
    return { ok: true, serverFinal: `v=${serverSignature.toString('base64')}` };
  }
}
