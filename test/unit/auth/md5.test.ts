// MD5 password scheme: PostgreSQL's stored form, the salted response and its verification.
import { describe, it, expect } from 'vitest';
import { createHash } from 'node:crypto';
import { isMd5Hash, md5Hash, md5Response, verifyMd5Response } from '../../../src/auth/md5.js';

const md5hex = (s: string | Buffer) => createHash('md5').update(s).digest('hex');

describe('md5Hash', () => {
  it('is "md5" + md5(password + user)', () => {
    expect(md5Hash('postgres', 'secret')).toBe('md5' + md5hex('secretpostgres'));
  });

  it('matches what PostgreSQL 15 stored for role m1 with password "secret"', () => {
    expect(md5Hash('m1', 'secret')).toBe('md5132ecbcbfa11be529b63ea4c4e734056');
  });

  it('passes an already-hashed password through', () => {
    const stored = md5Hash('postgres', 'secret');
    expect(md5Hash('postgres', stored)).toBe(stored);
    expect(isMd5Hash(stored)).toBe(true);
    expect(isMd5Hash('md5' + 'A'.repeat(32))).toBe(false);
    expect(isMd5Hash('md5abc')).toBe(false);
  });
});

describe('md5Response / verifyMd5Response', () => {
  const salt = Buffer.from([0x01, 0x02, 0x03, 0x04]);

  it('is "md5" + md5(hex of stored hash + salt)', () => {
    const inner = md5hex('secretpostgres');
    const expected = 'md5' + md5hex(Buffer.concat([Buffer.from(inner), salt]));
    expect(md5Response('postgres', 'secret', salt)).toBe(expected);
    expect(md5Response('postgres', 'md5' + inner, salt)).toBe(expected);
  });

  it('round-trips from password or stored hash on either side', () => {
    const response = md5Response('alice', 'pw', salt);
    expect(verifyMd5Response('alice', 'pw', salt, response)).toBe(true);
    expect(verifyMd5Response('alice', md5Hash('alice', 'pw'), salt, response)).toBe(true);
  });

  it('rejects wrong password, user, salt or malformed responses', () => {
    const response = md5Response('alice', 'pw', salt);
    expect(verifyMd5Response('alice', 'other', salt, response)).toBe(false);
    expect(verifyMd5Response('bob', 'pw', salt, response)).toBe(false);
    expect(verifyMd5Response('alice', 'pw', Buffer.from([9, 9, 9, 9]), response)).toBe(false);
    expect(verifyMd5Response('alice', 'pw', salt, '')).toBe(false);
    expect(verifyMd5Response('alice', 'pw', salt, response + 'x')).toBe(false);
  });
});
