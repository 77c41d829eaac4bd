// Stored verifiers: byte-for-byte agreement with verifiers made by PostgreSQL 15, SASLprep included.
import { describe, it, expect } from 'vitest';
import {
  createScramVerifier,
  isScramVerifier,
  parseScramVerifier,
  saslprep,
} from '../../../src/auth/scram.js';

// Produced with `SET password_encryption = 'scram-sha-256'; CREATE ROLE ... PASSWORD U&'...'` on
// PostgreSQL 15.18, then read from pg_authid.rolpassword. Salts are random, so each test reuses them.
const FROM_POSTGRES: Array<[string, string, string]> = [
  [
    'ascii',
    'pencil',
    'SCRAM-SHA-256$4096:0H9Zn28AORgw7lV4OmtPbA==$HtLroYgXkvAFOMDhOWAU5fzT26gJsUte5uhH0IdQpVE=:YbwhmGe5a6LVuWiCEWEG7iw8F+F2wT3+RqCJYtGDhEU=',
  ],
  [
    'no-break space mapped to space',
    'pass\u00a0word',
    'SCRAM-SHA-256$4096:swCkiDHsvILMbu9wwZzXFQ==$q7Uvbxr/FFJXsgpl6piDxcqTq4Ako1tHVBzKiB8Fc84=:T82Uci9CdUyjGWISxNFz4rB/9cozQ6Ki6h0yuX0Tzn8=',
  ],
  [
    'soft hyphen mapped to nothing',
    'ab\u00adcd',
    'SCRAM-SHA-256$4096:djQ8zPSlf6QgOzRMs80Jug==$YzuEkiHgNWqigDBtZn+En+8Ah8hEKVUYt6wF3Iq4MfM=:K1GJJp0tvjjkURsC2IPI58mOdUsCfnyJ7CgzgcwqxLc=',
  ],
  [
    'NFKC folds full-width letters',
    '\uff21\uff22c',
    'SCRAM-SHA-256$4096:0QtzTjORS7SoS/KLohQmwQ==$DlgyKf5Ce7HujlsSf+wM84UH3NBCjPYTAiLnCfTZ3Ck=:N+oJeqm5YKNcOR7sZYgmZ5731TgdcB+i9L7EBrljYUU=',
  ],
  [
    'private-use character falls back to raw bytes',
    'x\ue000y\uff21',
    'SCRAM-SHA-256$4096:0adbwJhtjn+0AskIKAOP7g==$+wpLHUl1Jx2B/Lw0ZkYAbOWqiFa7R6BKMUmfFHoSvZU=:ESFvWtYfrJMraVzp0QjD9FmoeNHIn4d1KwZRmQkDv4U=',
  ],
  [
    'NFKC composes e + combining acute',
    'cafe\u0301',
    'SCRAM-SHA-256$4096:ynbFFE0i8EG1L7bg1xb6iA==$rEELvRjR0N3lB4oG51MRczQMJ3GTxCa154rYa8Zk5pI=:eS/e+AhAA3oGxhXjzbVcAtjMTz6HERh6MSG3R5m0v68=',
  ],
  [
    'mixed right-to-left and left-to-right falls back to raw bytes',
    '\u05d0\uff41',
    'SCRAM-SHA-256$4096:Pm1DuwSjA13SxKvqKkqz5g==$kTmzPtqZsLTt8qum2dHuBksM1kxkr1Hc1o5Wnu9Sa+I=:GnRi5lWQloprLaSnd31AzA+z3WbGU0dfH+r7wZz6jsk=',
  ],
  [
    'empty after mapping falls back to raw bytes',
    '\u00ad',
    'SCRAM-SHA-256$4096:KFcHDVw0rNmXwFslOs3rDQ==$ZXEJvn3kPyLYpOn4njuPSlIMR2XL7x12/Lj2iQWTiRI=:1NjfsATOjvOAROTRlM0Zhk1VxPv9N+VZpCL32hfeKgc=',
  ],
  [
    'valid right-to-left string is normalized',
    '\u05d0\ufb2a\u05d1',
    'SCRAM-SHA-256$4096:i2xDQBrHsiQwhfulXTguzA==$rI32EaMnAcmVI3LPSZI37skEJdDRMJmFSEfn/Bpuz0E=:QZNkOamrmDUBei95sk/3JSsZPWNrlfA0k/EEgGzL+ko=',
  ],
  [
    'zero-width and ideographic spaces both become spaces',
    'a\u200bb\u3000c',
    'SCRAM-SHA-256$4096:4U7D2FBzYKc27JXnDRLwyw==$O0yG56VaQVJTiqH/SnjoWqYSJA7M/0oQTm03Ih470+4=:e5JTiKMiU/2TYpTrP38tDNTt4+efUslO0rQ4EgL3Wbc=',
  ],
  [
    'BOM mapped to nothing',
    'a\ufeffb\uff21',
    'SCRAM-SHA-256$4096:myLtZhSS3puAiDI2bT5bDQ==$lD2e4ibun1BdJZCcFySu03C3v5nCxkcuOoBkBsI8IeE=:KxA5/fbn0hk43jDZvVLq3dbsrlWDudoiai/trhqUBNc=',
  ],
  [
    'right-to-left text with a trailing Latin letter falls back to raw bytes',
    '\u0627\u0661\uff21',
    'SCRAM-SHA-256$4096:tch8493GCvt2B1OvZqyNXg==$sCB0+czgnQRn9aaPQExjOFdTxLOXVQfVnldfO8Ppuxs=:yvSm/43d11A46YIPGxH/2uoaRiThrUMVF04ylDbaG3k=',
  ],
  [
    'character assigned after Unicode 3.2 (emoji) falls back to raw bytes',
    '\u{1F600}\uff21',
    'SCRAM-SHA-256$4096:mFG/9DzdsPZNaqj+WZtaAA==$4289QN5IxXiWhkG27thjBHCRi2MY2Q0SlfBK4BYGOCU=:+2HJRG9c5WPEoe17XHbRkJv/6cFAATdm36B1iWn0K08=',
  ],
  [
    'rupee sign (Unicode 5.2) falls back to raw bytes',
    '\u20b9\uff21',
    'SCRAM-SHA-256$4096:Rj9ZrqJSD2LeJacHBsqWCw==$tzCit2kV6sM+l5NrT6lxRU32quXBP3OS5wAoxvRPBL0=:HQs1M+2xzqH9pr1kp5a5EfDqKO2D/AcejjBvDQnonVk=',
  ],
];

describe('createScramVerifier', () => {
  it.each(FROM_POSTGRES)('matches PostgreSQL: %s', (_label, password, stored) => {
    const parsed = parseScramVerifier(stored);
    expect(parsed).not.toBeNull();
    expect(createScramVerifier(password, parsed!.iterations, parsed!.salt)).toBe(stored);
  });

  it('uses a fresh 16-byte salt and 4096 iterations by default', () => {
    const a = parseScramVerifier(createScramVerifier('pw'))!;
    const b = parseScramVerifier(createScramVerifier('pw'))!;
    expect(a.iterations).toBe(4096);
    expect(a.salt.length).toBe(16);
    expect(a.salt.equals(b.salt)).toBe(false);
  });

  it('rejects nonsensical parameters', () => {
    expect(() => createScramVerifier('pw', 0)).toThrow(RangeError);
    expect(() => createScramVerifier('pw', 1.5)).toThrow(RangeError);
    expect(() => createScramVerifier('pw', 4096, Buffer.alloc(0))).toThrow(RangeError);
  });
});

describe('parseScramVerifier / isScramVerifier', () => {
  const good = FROM_POSTGRES[0][2];

  it('splits out the fields', () => {
    const v = parseScramVerifier(good)!;
    expect(v.iterations).toBe(4096);
    expect(v.salt.toString('base64')).toBe('0H9Zn28AORgw7lV4OmtPbA==');
    expect(v.storedKey.length).toBe(32);
    expect(v.serverKey.length).toBe(32);
    expect(isScramVerifier(good)).toBe(true);
  });

  it.each([
    ['plain password', 'pencil'],
    ['md5 hash', 'md5132ecbcbfa11be529b63ea4c4e734056'],
    ['other mechanism', good.replace('SCRAM-SHA-256', 'SCRAM-SHA-1')],
    ['zero iterations', good.replace('$4096:', '$0:')],
    ['bad base64', good.replace('0H9Zn28A', '0H9Z!28A')],
    ['short stored key', good.replace('HtLroYgXkvAFOMDhOWAU5fzT26gJsUte5uhH0IdQpVE=', 'AAAA')],
    ['missing server key', good.slice(0, good.lastIndexOf(':'))],
    ['trailing garbage', good + '$x'],
  ])('rejects %s', (_label, s) => {
    expect(parseScramVerifier(s)).toBeNull();
    expect(isScramVerifier(s)).toBe(false);
  });
});

describe('saslprep', () => {
  it('leaves ASCII alone, even control characters', () => {
    expect(saslprep('a\tb c')).toBe('a\tb c');
  });

  it('maps, normalizes and refuses as documented', () => {
    expect(saslprep('pass\u00a0word')).toBe('pass word');
    expect(saslprep('ab\u00adcd')).toBe('abcd');
    expect(saslprep('\uff21')).toBe('A');
    expect(saslprep('x\ue000')).toBeNull();
    expect(saslprep('\u05d0a')).toBeNull();
    expect(saslprep('\u00ad')).toBeNull();
    expect(saslprep('a\ud800')).toBeNull();
  });
});
