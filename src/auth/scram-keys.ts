// SCRAM-SHA-256 key derivation and PostgreSQL's stored verifier format ("SCRAM-SHA-256$iter:salt$stored:server").
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { scramPasswordBytes } from './saslprep.js';

export const SCRAM_SHA_256 = 'SCRAM-SHA-256';
/** PostgreSQL's default scram_iterations. */
export const DEFAULT_SCRAM_ITERATIONS = 4096;
// PostgreSQL generates 16-byte salts; the key length is the SHA-256 output size.
const SALT_LENGTH = 16;
export const SCRAM_KEY_LENGTH = 32;
// PostgreSQL keeps the iteration count in a C int.
const MAX_ITERATIONS = 0x7fffffff;

export interface ScramSecret {
  iterations: number;
  salt: Buffer;
  storedKey: Buffer;
  serverKey: Buffer;
}

export function hmac(key: Buffer, data: string | Buffer): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

export function sha256(data: Buffer): Buffer {
  return createHash('sha256').update(data).digest();
}

export function xor(a: Buffer, b: Buffer): Buffer {
  const out = Buffer.alloc(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] ^ b[i];
  return out;
}

/** Constant-time equality; a length mismatch is answered at once since lengths here are public. */
export function constantTimeEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Base64 decoding that rejects what Buffer.from would silently skip (stray characters, bad padding). */
export function decodeBase64(s: string): Buffer | null {
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(s)) return null;
  return Buffer.from(s, 'base64');
}

export function isValidIterations(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && n <= MAX_ITERATIONS;
}

/** Hi() of RFC 5802 is PBKDF2 with HMAC-SHA-256 and one output block. */
export function saltedPassword(password: string, salt: Buffer, iterations: number): Buffer {
  return pbkdf2Sync(scramPasswordBytes(password), salt, iterations, SCRAM_KEY_LENGTH, 'sha256');
}

export function clientKeyOf(salted: Buffer): Buffer {
  return hmac(salted, 'Client Key');
}

export function serverKeyOf(salted: Buffer): Buffer {
  return hmac(salted, 'Server Key');
}

export function deriveScramSecret(password: string, iterations: number, salt: Buffer): ScramSecret {
  if (!isValidIterations(iterations)) throw new RangeError(`invalid SCRAM iteration count: ${iterations}`);
  if (salt.length === 0) throw new RangeError('SCRAM salt must not be empty');
  return secretOf(saltedPassword(password, salt, iterations), salt, iterations);
}

/** The secret a server keeps, from Hi(password, salt, iterations). */
export function secretOf(salted: Buffer, salt: Buffer, iterations: number): ScramSecret {
  return { iterations, salt, storedKey: sha256(clientKeyOf(salted)), serverKey: serverKeyOf(salted) };
}

export function randomSalt(): Buffer {
  return randomBytes(SALT_LENGTH);
}

/** The verifier exactly as PostgreSQL stores it in pg_authid.rolpassword. */
export function createScramVerifier(
  password: string,
  iterations = DEFAULT_SCRAM_ITERATIONS,
  salt: Buffer = randomSalt(),
): string {
  const s = deriveScramSecret(password, iterations, salt);
  const b64 = (b: Buffer) => b.toString('base64');
  return `${SCRAM_SHA_256}$${iterations}:${b64(s.salt)}$${b64(s.storedKey)}:${b64(s.serverKey)}`;
}

/** Parses a stored verifier; null if it is not one (e.g. an MD5 hash or a plain password). */
export function parseScramVerifier(s: string): ScramSecret | null {
  const m = /^SCRAM-SHA-256\$([0-9]+):([^$:]+)\$([^$:]+):([^$:]+)$/.exec(s);
  if (!m) return null;
  const iterations = Number(m[1]);
  const salt = decodeBase64(m[2]);
  const storedKey = decodeBase64(m[3]);
  const serverKey = decodeBase64(m[4]);
  if (!isValidIterations(iterations) || !salt || salt.length === 0) return null;
  if (storedKey?.length !== SCRAM_KEY_LENGTH || serverKey?.length !== SCRAM_KEY_LENGTH) return null;
  return { iterations, salt, storedKey, serverKey };
}

export function isScramVerifier(s: string): boolean {
  return parseScramVerifier(s) !== null;
}
