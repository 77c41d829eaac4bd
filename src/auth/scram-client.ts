// Client side of SCRAM-SHA-256 (the proxy authenticating to PostgreSQL), behaving like libpq.
import { AuthError } from './errors.js';
import { saltedPasswordForServer } from './scram-secrets.js';
import {
  clientKeyOf,
  constantTimeEqual,
  decodeBase64,
  hmac,
  isValidIterations,
  serverKeyOf,
  sha256,
  xor,
} from './scram-keys.js';
import {
  escapeSaslName,
  expectAttribute,
  isPrintable,
  parseAttributes,
  randomNonce,
} from './scram-messages.js';

export interface ScramClientOptions {
  /** Sent as n=; PostgreSQL ignores it, so libpq (and the default here) sends it empty. */
  username?: string;
  /** Test-only: the client nonce instead of 18 random bytes. */
  nonce?: string;
}

type State = 'initial' | 'sentFirst' | 'sentFinal' | 'done';

export class ScramClientSession {
  private readonly clientNonce: string;
  private readonly clientFirstBare: string;
  private state: State = 'initial';
  private expectedServerSignature: Buffer = Buffer.alloc(0);

  constructor(
    private readonly password: string,
    options: ScramClientOptions = {},
  ) {
    this.clientNonce = options.nonce ?? randomNonce();
    if (!isPrintable(this.clientNonce))
      throw new TypeError('SCRAM nonce must be printable ASCII without commas');
    this.clientFirstBare = `n=${escapeSaslName(options.username ?? '')},r=${this.clientNonce}`;
  }

  /** The client-first-message; "n,," because the proxy never offers channel binding. */
  clientFirst(): string {
    if (this.state !== 'initial') throw new AuthError('SCRAM client-first-message already sent');
    this.state = 'sentFirst';
    return `n,,${this.clientFirstBare}`;
  }

  /** Takes the server-first-message and returns the client-final-message. */
  handleServerFirst(msg: string): string {
    if (this.state !== 'sentFirst') throw new AuthError('unexpected SCRAM server-first-message');
    this.state = 'done'; // any exception below ends the exchange
    const attrs = parseAttributes(msg, 'server-first-message');
    const nonce = expectAttribute(attrs, 0, 'r', 'server-first-message');
    const saltB64 = expectAttribute(attrs, 1, 's', 'server-first-message');
    const iterText = expectAttribute(attrs, 2, 'i', 'server-first-message');
    // The server must extend our nonce, or it may be replaying an old exchange.
    if (
      !isPrintable(nonce) ||
      nonce.length <= this.clientNonce.length ||
      !nonce.startsWith(this.clientNonce)
    ) {
      throw new AuthError('SCRAM server nonce does not extend the client nonce');
    }
    const salt = decodeBase64(saltB64);
    if (!salt || salt.length === 0) throw new AuthError('malformed SCRAM server-first-message: bad salt');
    const iterations = /^[0-9]+$/.test(iterText) ? Number(iterText) : NaN;
    if (!isValidIterations(iterations))
      throw new AuthError('malformed SCRAM server-first-message: bad iterations');

    const salted = saltedPasswordForServer(this.password, salt, iterations);
    const clientKey = clientKeyOf(salted);
    const withoutProof = `c=biws,r=${nonce}`; // base64("n,,")
    const authMessage = `${this.clientFirstBare},${msg},${withoutProof}`;
    const proof = xor(clientKey, hmac(sha256(clientKey), authMessage));
    this.expectedServerSignature = hmac(serverKeyOf(salted), authMessage);
    this.state = 'sentFinal';
    return `${withoutProof},p=${proof.toString('base64')}`;
  }

  /** Checks the server-final-message; throws AuthError unless the server proved it knows the password. */
  verifyServerFinal(msg: string): void {
    if (this.state !== 'sentFinal') throw new AuthError('unexpected SCRAM server-final-message');
    this.state = 'done';
    const attrs = parseAttributes(msg, 'server-final-message');
    if (attrs[0]?.name === 'e')
      throw new AuthError(`SCRAM server error: ${attrs[0].value}`, 'invalidPassword');
    const signature = decodeBase64(expectAttribute(attrs, 0, 'v', 'server-final-message'));
    if (!signature) throw new AuthError('malformed SCRAM server-final-message: bad signature');
    if (!constantTimeEqual(signature, this.expectedServerSignature)) {
      throw new AuthError('SCRAM server signature is invalid', 'invalidPassword');
    }
  }
}
