// SASLprep (RFC 4013) as PostgreSQL applies it to SCRAM passwords, falling back to the raw bytes.
//
// Implemented subset, and where it may differ from PostgreSQL (checked against PostgreSQL 15):
// - Pure ASCII input is used as is (PostgreSQL skips SASLprep for it too, control characters included).
// - Mapping: C.1.2 non-ASCII spaces become U+0020 first, then RFC 3454 B.1 "commonly mapped to nothing"
//   is removed. U+200B is in both lists; PostgreSQL turns it into a space.
// - Unassigned code points (A.1) are exact: anything not assigned in Unicode 3.2 fails, as in PostgreSQL.
// - Normalization: NFKC of the running Node/ICU. For text assigned in 3.2 it matches 3.2's NFKC apart
//   from a few characters fixed by later Unicode corrigenda.
// - Prohibited output: the RFC 3454 C.1.2-C.9 lists.
// - Bidi (RFC 3454 section 6): RandALCat (D.1) is exact; LCat (D.2) is approximated by letters and
//   spacing marks, so rare symbols and non-ASCII digits of bidi class L are not counted as LCat.
// - An empty result counts as a failure.
// On any failure the caller gets the raw UTF-8 bytes of the password, which is what PostgreSQL hashes.
import { RAND_AL, isUnassignedIn32 } from './saslprep-tables.js';

// RFC 3454 C.1.2: non-ASCII space characters.
const NON_ASCII_SPACE = /[\u00A0\u1680\u2000-\u200B\u202F\u205F\u3000]/gu;
// RFC 3454 B.1: commonly mapped to nothing. The lint rule below guards against grapheme clusters in
// classes; these are deliberately single combining code points (variation selectors and the like).
// eslint-disable-next-line no-misleading-character-class
const MAPPED_TO_NOTHING = /[\u00AD\u034F\u1806\u180B-\u180D\u200B-\u200D\u2060\uFE00-\uFE0F\uFEFF]/gu;
// RFC 3454 C.1.2-C.9. Cc covers C.2.1 and part of C.2.2, Co covers C.3, Cs covers lone surrogates
// (C.5; they cannot be valid UTF-8 either); non-characters (C.4) are unassigned and caught there.
const PROHIBITED =
  // eslint-disable-next-line no-misleading-character-class
  /[\p{Cc}\p{Co}\p{Cs}\u00A0\u1680\u2000-\u200F\u2028-\u202F\u205F-\u2063\u206A-\u206F\u3000\u06DD\u070F\u180E\uFEFF\uFFF9-\uFFFD\u2FF0-\u2FFB\u0340\u0341\u{1D173}-\u{1D17A}\u{E0001}\u{E0020}-\u{E007F}]/u;
const LETTER_LIKE = /[\p{L}\p{Mc}]/u;

function bidiOk(chars: string[]): boolean {
  const isRandAL = (c: string) => RAND_AL.test(c);
  if (!chars.some(isRandAL)) return true;
  if (chars.some((c) => LETTER_LIKE.test(c) && !isRandAL(c))) return false;
  return isRandAL(chars[0]) && isRandAL(chars[chars.length - 1]);
}

/** SASLprep'd password, or null if PostgreSQL would fall back to the raw password. */
export function saslprep(password: string): string | null {
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7F]*$/.test(password)) return password;
  const mapped = password.replace(NON_ASCII_SPACE, ' ').replace(MAPPED_TO_NOTHING, '');
  // Checked before normalizing: today's NFKC may fold a post-3.2 character into an assigned one.
  if (Array.from(mapped).some((c) => isUnassignedIn32(c.codePointAt(0)!))) return null;
  const normalized = mapped.normalize('NFKC');
  if (normalized.length === 0 || PROHIBITED.test(normalized)) return null;
  if (!bidiOk(Array.from(normalized))) return null;
  return normalized;
}

/** The bytes SCRAM hashes for `password`: SASLprep'd if possible, else the raw UTF-8. */
export function scramPasswordBytes(password: string): Buffer {
  return Buffer.from(saslprep(password) ?? password, 'utf8');
}
