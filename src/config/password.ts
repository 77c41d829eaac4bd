// Recognizes how a configured password is stored: plain text, an md5 hash or a SCRAM-SHA-256 verifier.

export type PasswordKind = 'plain' | 'md5' | 'scram-sha-256';

const base64 = '[A-Za-z0-9+/]+={0,2}';
const scramVerifier = new RegExp(`^SCRAM-SHA-256\\$[1-9]\\d*:${base64}\\$${base64}:${base64}$`);
const md5Hash = /^md5[0-9a-f]{32}$/i;

/** Lets auth pick the right check without each caller re-parsing the stored form. */
export function passwordKind(password: string): PasswordKind {
  if (scramVerifier.test(password)) return 'scram-sha-256';
  if (md5Hash.test(password)) return 'md5';
  return 'plain';
}

/** Catches a verifier pasted with a typo, which would otherwise be taken as a plain-text password. */
export function isMalformedScramVerifier(password: string): boolean {
  return password.startsWith('SCRAM-SHA-256$') && passwordKind(password) !== 'scram-sha-256';
}
