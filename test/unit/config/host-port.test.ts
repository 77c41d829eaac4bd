// host:port parsing for listen addresses and backend servers.
import { describe, it, expect } from 'vitest';
import { parseHostPort } from '../../../src/config/host-port.js';

describe('parseHostPort', () => {
  it.each([
    ['127.0.0.1:6432', '127.0.0.1', 6432],
    ['[::1]:5432', '::1', 5432],
    ['[fe80::1]:1', 'fe80::1', 1],
    ['db.example.com:65535', 'db.example.com', 65535],
    ['localhost:5432', 'localhost', 5432],
    ['pg_primary:5432', 'pg_primary', 5432],
  ])('parses %s', (text, host, port) => {
    expect(parseHostPort(text)).toEqual({ host, port });
  });

  it('names what was expected and what it got', () => {
    expect(() => parseHostPort('localhost')).toThrow(new Error('expected host:port, got "localhost"'));
  });

  it.each([
    'db:0',
    'db:65536',
    'db:',
    ':5432',
    'db:54a',
    '::1:5432',
    '[db]:5432',
    '1.2.3:5432',
    'a b:5',
    '-db:5',
  ])('rejects %s', (text) => {
    expect(() => parseHostPort(text)).toThrow(/^expected host:port, got /);
  });
});
