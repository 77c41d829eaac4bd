// RFC 7677 section 3 test vector, run through both the client and the server session.
import { describe, it, expect } from 'vitest';
import { ScramClientSession, ScramServerSession } from '../../../src/auth/scram.js';

const CLIENT_NONCE = 'rOprNGfwEbeRWgbNEkqO';
const SERVER_SUFFIX = '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0';
const SALT = Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64');
const CLIENT_FIRST = `n,,n=user,r=${CLIENT_NONCE}`;
const SERVER_FIRST = `r=${CLIENT_NONCE}${SERVER_SUFFIX},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096`;
const CLIENT_FINAL = `c=biws,r=${CLIENT_NONCE}${SERVER_SUFFIX},p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=`;
const SERVER_FINAL = 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=';

describe('RFC 7677 example', () => {
  it('client produces the RFC messages and accepts the RFC server signature', () => {
    const client = new ScramClientSession('pencil', { username: 'user', nonce: CLIENT_NONCE });
    expect(client.clientFirst()).toBe(CLIENT_FIRST);
    expect(client.handleServerFirst(SERVER_FIRST)).toBe(CLIENT_FINAL);
    expect(() => client.verifyServerFinal(SERVER_FINAL)).not.toThrow();
  });

  it('server produces the RFC messages from the plain password', () => {
    const server = new ScramServerSession({ password: 'pencil', salt: SALT, serverNonce: SERVER_SUFFIX });
    expect(server.handleClientFirst(CLIENT_FIRST)).toBe(SERVER_FIRST);
    expect(server.handleClientFinal(CLIENT_FINAL)).toEqual({ ok: true, serverFinal: SERVER_FINAL });
  });
});
