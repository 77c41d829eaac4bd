// PostgreSQL's legacy MD5 password scheme: stored hash, salted challenge response and its verification.
import { createHash, timingSafeEqual } from 'node:crypto';

const STORED_MD5 = /^md5[0-9a-f]{32}$/;

function md5Hex(data: Buffer | string): string {
  return createHash('md5').update(data).digest('hex');
}

/** True if `s` is already in PostgreSQL's stored MD5 form ("md5" + 32 lowercase hex digits). */
export function isMd5Hash(s: string): boolean {
  return STORED_MD5.test(s);
}

/**
 * The form PostgreSQL stores in pg_authid: "md5" + hex(md5(password + user)). A value that already
 * looks stored is returned unchanged, as PostgreSQL does, so config files may hold either form.
 */
export function md5Hash(user: string, password: string): string {
  if (isMd5Hash(password)) return password;
  return 'md5' + md5Hex(password + user);
}

/**
 * The PasswordMessage payload answering AuthenticationMD5Password:
 * "md5" + hex(md5(hex-part-of-stored-hash + salt)). Needs only the stored hash, not the password.
 */
export function md5Response(user: string, passwordOrHash: string, salt: Buffer): string {
  const inner = md5Hash(user, passwordOrHash).slice(3);
  return 'md5' + md5Hex(Buffer.concat([Buffer.from(inner, 'utf8'), salt]));
}

/** Checks a client's MD5 response in constant time (over equal-length inputs). */
export function verifyMd5Response(
  user: string,
  passwordOrHash: string,
  salt: Buffer,
  response: string,
): boolean {
  const expected = Buffer.from(md5Response(user, passwordOrHash, salt), 'utf8');
  const given = Buffer.from(response, 'utf8');
  // timingSafeEqual throws on length mismatch; the length of a well-formed response is public anyway.
  return given.length === expected.length && timingSafeEqual(given, expected);
}
