// SCRAM secrets derived once, not per login: PBKDF2's 4096 rounds cost milliseconds of CPU each time.
import { pbkdf2 } from 'node:crypto';
import { promisify } from 'node:util';
import { scramPasswordBytes } from './saslprep.js';
import {
  DEFAULT_SCRAM_ITERATIONS,
  SCRAM_KEY_LENGTH,
  hmac,
  randomSalt,
  saltedPassword,
  secretOf,
  type ScramSecret,
} from './scram-keys.js';

const pbkdf2Async = promisify(pbkdf2);

/** Per configured user: the plain-text password a secret was derived from, and the secret. */
const byUser = new Map<string, { password: string; secret: Promise<ScramSecret> }>();

/**
 * The SCRAM secret for a user whose password the config holds in plain text. Derived on the first login
 * (in the thread pool, so other clients keep being served) and kept while the password stays the same:
 * one salt per user, as PostgreSQL keeps in pg_authid, instead of PBKDF2 on the event loop per login.
 */
export function scramSecretFor(userName: string, password: string): Promise<ScramSecret> {
  const known = byUser.get(userName);
  if (known?.password === password) return known.secret;
  const salt = randomSalt();
  const iterations = DEFAULT_SCRAM_ITERATIONS;
  const secret = pbkdf2Async(scramPasswordBytes(password), salt, iterations, SCRAM_KEY_LENGTH, 'sha256').then(
    (salted) => secretOf(salted, salt, iterations),
  );
  byUser.set(userName, { password, secret });
  // A failed derivation is not kept: the next login tries again.
  secret.catch(() => {
    if (byUser.get(userName)?.secret === secret) byUser.delete(userName);
  });
  return secret;
}

const mockKey = randomSalt();

/**
 * A secret for a user that does not exist (or has no password): no password matches it, its salt is the
 * same on every attempt for the same name (as PostgreSQL's mock salt), and it costs no PBKDF2, so neither
 * the salt nor the time to answer tells a client which user names exist.
 */
export function mockScramSecret(userName: string): ScramSecret {
  return {
    iterations: DEFAULT_SCRAM_ITERATIONS,
    salt: hmac(mockKey, `salt:${userName}`).subarray(0, 16),
    storedKey: hmac(mockKey, `stored:${userName}`),
    serverKey: hmac(mockKey, `server:${userName}`),
  };
}

/** Salted passwords the proxy computed to log in to servers, by password, salt and iterations. */
const saltedForServers = new Map<string, Buffer>();
/** A server chooses the salt; a bound keeps a misbehaving one from growing the map. */
const maxSaltedForServers = 256;

/**
 * Hi(password, salt, i) for logging in to a server. PostgreSQL keeps one salt per role, so every new pooled
 * connection to it would otherwise repeat the same PBKDF2 on the event loop.
 */
export function saltedPasswordForServer(password: string, salt: Buffer, iterations: number): Buffer {
  const key = `${iterations}:${salt.toString('base64')}:${password}`;
  let salted = saltedForServers.get(key);
  if (!salted) {
    salted = saltedPassword(password, salt, iterations);
    if (saltedForServers.size >= maxSaltedForServers) saltedForServers.clear();
    saltedForServers.set(key, salted);
  }
  return salted;
}
