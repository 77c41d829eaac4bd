// Recognizing stored password forms.
import { describe, it, expect } from 'vitest';
import { isMalformedScramVerifier, passwordKind } from '../../../src/config/password.js';

describe('passwordKind', () => {
  it('tells plain text, md5 hashes and SCRAM verifiers apart', () => {
    expect(passwordKind('app-secret')).toBe('plain');
    expect(passwordKind('md5' + '0123456789abcdef'.repeat(2))).toBe('md5');
    expect(passwordKind('md5short')).toBe('plain');
    expect(passwordKind('SCRAM-SHA-256$4096:c2FsdHNhbHQ=$c3RvcmVka2V5:c2VydmVya2V5')).toBe('scram-sha-256');
  });

  it('flags a verifier with a typo', () => {
    expect(isMalformedScramVerifier('SCRAM-SHA-256$4096:c2FsdA==$c3RvcmVk')).toBe(true);
    expect(isMalformedScramVerifier('SCRAM-SHA-256$4096:c2FsdA==$c3RvcmVk:c2VydmVy')).toBe(false);
    expect(isMalformedScramVerifier('plain')).toBe(false);
  });
});
