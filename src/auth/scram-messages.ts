// Parsing helpers for SCRAM messages ("a=value,b=value"), shared by the client and server sessions.
import { randomBytes } from 'node:crypto';
import { AuthError } from './errors.js';

// PostgreSQL uses 18 random bytes, base64-encoded (24 characters, never padding or commas).
const NONCE_BYTES = 18;

export function randomNonce(): string {
  return randomBytes(NONCE_BYTES).toString('base64');
}

/** RFC 5802 "printable": visible ASCII except the comma. */
export function isPrintable(s: string): boolean {
  return /^[\x21-\x2b\x2d-\x7e]+$/.test(s);
}

export interface Attribute {
  name: string;
  value: string;
}

/**
 * Splits a message into its attributes. Every comma-separated part must be a single letter, "=" and
 * a value; NUL is refused because PostgreSQL measures these messages as C strings.
 */
export function parseAttributes(msg: string, what: string): Attribute[] {
  if (msg.includes('\0')) throw new AuthError(`malformed SCRAM ${what}: contains NUL`);
  return msg.split(',').map((part) => {
    const m = /^([A-Za-z])=(.*)$/s.exec(part);
    if (!m) throw new AuthError(`malformed SCRAM ${what}: expected attribute, got "${part.slice(0, 20)}"`);
    return { name: m[1], value: m[2] };
  });
}

/** Returns the value of attribute `index`, which must be named `name`. */
export function expectAttribute(attrs: Attribute[], index: number, name: string, what: string): string {
  const attr = attrs[index];
  // "m=" in first position announces a mandatory extension nobody implements; say so plainly.
  if (index === 0 && attr?.name === 'm')
    throw new AuthError(`SCRAM ${what} requires an unsupported extension`);
  if (attr?.name !== name) throw new AuthError(`malformed SCRAM ${what}: expected "${name}=" attribute`);
  return attr.value;
}

/** Escapes a username for the n= attribute (RFC 5802 saslname). */
export function escapeSaslName(name: string): string {
  return name.replace(/=/g, '=3D').replace(/,/g, '=2C');
}
