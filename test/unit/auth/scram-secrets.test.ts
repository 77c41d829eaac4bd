// SCRAM secrets derived once per user and password, mock secrets for unknown users, cached server logins.
import { describe, expect, it } from 'vitest';
import { ScramClientSession, ScramServerSession } from '../../../src/auth/index.js';
import { saltedPassword } from '../../../src/auth/scram-keys.js';
import { mockScramSecret, saltedPasswordForServer, scramSecretFor } from '../../../src/auth/scram-secrets.js';
import type { ScramSecret } from '../../../src/auth/scram-keys.js';

/** A full exchange of a client with the given password against a server holding the secret. */
function logsIn(password: string, secret: ScramSecret): boolean {
  const server = new ScramServerSession({ secret });
  const client = new ScramClientSession(password);
  const serverFirst = server.handleClientFirst(client.clientFirst());
  const result = server.handleClientFinal(client.handleServerFirst(serverFirst));
  if (result.ok) client.verifyServerFinal(result.serverFinal);
  return result.ok;
}

/** The salt the server announces in its server-first-message. */
function announcedSalt(secret: ScramSecret): string {
  const server = new ScramServerSession({ secret });
  const first = server.handleClientFirst(new ScramClientSession('x').clientFirst());
  return /,s=([^,]+),/.exec(first)![1];
}

describe('scramSecretFor', () => {
  it('derives a secret the password logs in with, once per user and password', async () => {
    const first = await scramSecretFor('alice', 'secret');
    expect(logsIn('secret', first)).toBe(true);
    expect(logsIn('wrong', first)).toBe(false);
    expect(await scramSecretFor('alice', 'secret')).toBe(first);
    expect(announcedSalt(first)).toBe(announcedSalt(await scramSecretFor('alice', 'secret')));
  });

  it('derives again when the password changes (a reloaded config)', async () => {
    const before = await scramSecretFor('bob', 'old');
    const after = await scramSecretFor('bob', 'new');
    expect(after).not.toBe(before);
    expect(logsIn('new', after)).toBe(true);
    expect(logsIn('old', after)).toBe(false);
  });

  it('keeps users apart, even with the same password', async () => {
    const carol = await scramSecretFor('carol', 'shared');
    const dave = await scramSecretFor('dave', 'shared');
    expect(carol).not.toBe(dave);
    expect(carol.salt.equals(dave.salt)).toBe(false);
    expect(logsIn('shared', dave)).toBe(true);
  });
});

describe('mockScramSecret', () => {
  it('lets no password in and shows the same salt for the same name on every attempt', () => {
    const mock = mockScramSecret('nobody');
    for (const password of ['', 'nobody', 'secret']) expect(logsIn(password, mock)).toBe(false);
    expect(announcedSalt(mockScramSecret('nobody'))).toBe(announcedSalt(mock));
    expect(announcedSalt(mockScramSecret('somebody'))).not.toBe(announcedSalt(mock));
  });
});

describe('saltedPasswordForServer', () => {
  it('equals Hi(password, salt, i) and is computed once per password, salt and iterations', () => {
    const salt = Buffer.from('0123456789abcdef');
    const salted = saltedPasswordForServer('pw', salt, 4096);
    expect(salted.equals(saltedPassword('pw', salt, 4096))).toBe(true);
    expect(saltedPasswordForServer('pw', Buffer.from(salt), 4096)).toBe(salted);
    expect(saltedPasswordForServer('pw', salt, 4097).equals(salted)).toBe(false);
    expect(saltedPasswordForServer('other', salt, 4096).equals(salted)).toBe(false);
  });
});
