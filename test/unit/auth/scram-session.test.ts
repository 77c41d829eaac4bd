// Client and server SCRAM sessions against each other: success, wrong passwords, tampering, bad input.
import { describe, it, expect } from 'vitest';
import { createHash, createHmac, pbkdf2Sync } from 'node:crypto';
import {
  AuthError,
  ScramClientSession,
  ScramServerSession,
  createScramVerifier,
} from '../../../src/auth/index.js';

const NONCE = 'fyko+d2lbbFgONRv9qkxdawL';

/** Runs a full exchange; returns what the server decided and, on success, the client's verdict. */
function exchange(clientPassword: string, server: ScramServerSession) {
  const client = new ScramClientSession(clientPassword);
  const serverFirst = server.handleClientFirst(client.clientFirst());
  const result = server.handleClientFinal(client.handleServerFirst(serverFirst));
  if (result.ok) client.verifyServerFinal(result.serverFinal);
  return result;
}

/** Server after a valid client-first, plus the client-final a correct client would send. */
function midway(firstMsg = `n,,n=,r=${NONCE}`) {
  const server = new ScramServerSession({ password: 'secret', iterations: 4096 });
  const serverFirst = server.handleClientFirst(firstMsg);
  const client = new ScramClientSession('secret', { nonce: NONCE });
  client.clientFirst();
  return { server, serverFirst, clientFinal: client.handleServerFirst(serverFirst), client };
}

describe('client against server', () => {
  it('succeeds with the right password, plain or stored as a verifier', () => {
    expect(exchange('secret', new ScramServerSession({ password: 'secret' })).ok).toBe(true);
    const verifier = createScramVerifier('secret', 1024);
    expect(exchange('secret', new ScramServerSession({ verifier })).ok).toBe(true);
  });

  it('verifier takes precedence over password', () => {
    const verifier = createScramVerifier('stored');
    expect(exchange('stored', new ScramServerSession({ verifier, password: 'plain' })).ok).toBe(true);
  });

  it('SASLprep makes equivalent non-ASCII passwords match', () => {
    expect(exchange('\uff21\u00a0b', new ScramServerSession({ password: 'A b' })).ok).toBe(true);
  });

  it('fails with the wrong password', () => {
    const result = exchange('wrong', new ScramServerSession({ password: 'secret' }));
    expect(result.ok).toBe(false);
  });

  it('client sends an empty user name and a fresh 24-character nonce', () => {
    const a = new ScramClientSession('pw').clientFirst();
    const b = new ScramClientSession('pw').clientFirst();
    expect(a).toMatch(/^n,,n=,r=[A-Za-z0-9+/]{24}$/);
    expect(a).not.toBe(b);
  });

  it('server nonce extends the client nonce by 18 random bytes', () => {
    const { serverFirst } = midway();
    expect(serverFirst).toMatch(new RegExp(`^r=${NONCE.replace('+', '\\+')}[A-Za-z0-9+/]{24},s=.+,i=4096$`));
  });

  it('accepts any user name in client-first (PostgreSQL uses the startup packet)', () => {
    const client = new ScramClientSession('secret', { username: 'some,one=' });
    const server = new ScramServerSession({ password: 'secret' });
    const first = client.clientFirst();
    expect(first).toBe(`n,,n=some=2Cone=3D,r=${first.slice(first.indexOf('r=') + 2)}`);
    const result = server.handleClientFinal(client.handleServerFirst(server.handleClientFirst(first)));
    expect(result.ok).toBe(true);
  });
});

describe('server verification failures', () => {
  it('rejects a tampered proof', () => {
    const { server, clientFinal } = midway();
    const proof = Buffer.from(clientFinal.slice(clientFinal.indexOf(',p=') + 3), 'base64');
    proof[0] ^= 1;
    const tampered = `${clientFinal.slice(0, clientFinal.indexOf(',p='))},p=${proof.toString('base64')}`;
    expect(server.handleClientFinal(tampered)).toMatchObject({ ok: false });
  });

  it('rejects a wrong nonce', () => {
    const { server, clientFinal } = midway();
    const wrong = clientFinal.replace(/,r=[^,]+/, `,r=${NONCE}AAAAAAAAAAAAAAAAAAAAAAAA`);
    expect(server.handleClientFinal(wrong)).toMatchObject({ ok: false, reason: 'SCRAM nonce mismatch' });
  });

  it('checks the channel-binding echo against the GS2 header sent', () => {
    const { server, clientFinal } = midway();
    const lying = clientFinal.replace('c=biws', 'c=eSws');
    expect(server.handleClientFinal(lying)).toMatchObject({ ok: false });
  });

  it('accepts "y,," with "eSws" and refuses it with "biws"', () => {
    // Our client only sends "n,,", so compute a "y,," client's proof straight from RFC 5802.
    const salt = Buffer.alloc(16, 3);
    const serverFirst = `r=${NONCE}SUFFIX,s=${salt.toString('base64')},i=4096`;
    const proofFor = (binding: string) => {
      const salted = pbkdf2Sync('secret', salt, 4096, 32, 'sha256');
      const clientKey = createHmac('sha256', salted).update('Client Key').digest();
      const storedKey = createHash('sha256').update(clientKey).digest();
      const authMessage = `n=,r=${NONCE},${serverFirst},c=${binding},r=${NONCE}SUFFIX`;
      const signature = createHmac('sha256', storedKey).update(authMessage).digest();
      return Buffer.from(clientKey.map((b, i) => b ^ signature[i])).toString('base64');
    };
    for (const [binding, ok] of [
      ['eSws', true],
      ['biws', false],
    ] as const) {
      const server = new ScramServerSession({ password: 'secret', salt, serverNonce: 'SUFFIX' });
      expect(server.handleClientFirst(`y,,n=,r=${NONCE}`)).toBe(serverFirst);
      const final = `c=${binding},r=${NONCE}SUFFIX,p=${proofFor(binding)}`;
      expect(server.handleClientFinal(final).ok).toBe(ok);
    }
  });

  it('ignores extensions between r= and p=', () => {
    const { server, clientFinal } = midway();
    const withExt = clientFinal.replace(',p=', ',x=whatever,p=');
    // The extension is part of AuthMessage, so the unchanged proof no longer matches, but it parses.
    expect(server.handleClientFinal(withExt)).toMatchObject({
      ok: false,
      reason: 'SCRAM client proof does not match',
    });
  });
});

describe('server rejects malformed client messages', () => {
  const bad = (msg: string) => () => new ScramServerSession({ password: 'x' }).handleClientFirst(msg);

  it.each([
    ['channel binding requested', `p=tls-server-end-point,,n=,r=${NONCE}`],
    ['authorization identity', `n,a=admin,n=,r=${NONCE}`],
    ['bad GS2 flag', `q,,n=,r=${NONCE}`],
    ['missing GS2 header', `n=,r=${NONCE}`],
    ['mandatory extension', `n,,m=ext,n=,r=${NONCE}`],
    ['missing user name', `n,,r=${NONCE}`],
    ['missing nonce', 'n,,n='],
    ['empty nonce', 'n,,n=,r='],
    ['non-printable nonce', 'n,,n=,r=abc\u00e9'],
    ['NUL byte', `n,,n=\0,r=${NONCE}`],
    ['not attributes', 'n,,garbage'],
    ['empty', ''],
  ])('client-first: %s', (_label, msg) => {
    expect(bad(msg)).toThrow(AuthError);
  });

  it.each([
    ['missing proof', (f: string) => f.slice(0, f.indexOf(',p='))],
    ['proof not last', (f: string) => f + ',x=1'],
    ['proof not base64', (f: string) => f.replace(/p=.*$/, 'p=!!!!')],
    ['proof too short', (f: string) => f.replace(/p=.*$/, 'p=AAAA')],
    ['attributes out of order', (f: string) => f.replace(/^c=biws,(r=[^,]+)/, '$1,c=biws')],
    ['garbage', () => 'hello'],
  ])('client-final: %s', (_label, mangle) => {
    const { server, clientFinal } = midway();
    expect(() => server.handleClientFinal(mangle(clientFinal))).toThrow(AuthError);
  });

  it('enforces message order and single use', () => {
    const server = new ScramServerSession({ password: 'x' });
    expect(() => server.handleClientFinal('c=biws,r=a,p=AAAA')).toThrow(AuthError);
    const { server: s2, clientFinal } = midway();
    expect(() => s2.handleClientFirst(`n,,n=,r=${NONCE}`)).toThrow(AuthError);
    expect(s2.handleClientFinal(clientFinal).ok).toBe(true);
    expect(() => s2.handleClientFinal(clientFinal)).toThrow(AuthError);
  });

  it('refuses a stored value that is not a SCRAM verifier', () => {
    expect(() => new ScramServerSession({ verifier: 'md5132ecbcbfa11be529b63ea4c4e734056' })).toThrow(
      AuthError,
    );
    expect(() => new ScramServerSession({})).toThrow(TypeError);
  });
});

describe('client rejects bad server messages', () => {
  function afterFirst() {
    const client = new ScramClientSession('secret', { nonce: NONCE });
    client.clientFirst();
    return client;
  }
  const salt = Buffer.alloc(16, 7).toString('base64');

  it.each([
    ['nonce not extending ours', `r=other${NONCE},s=${salt},i=4096`],
    ['nonce equal to ours', `r=${NONCE},s=${salt},i=4096`],
    ['zero iterations', `r=${NONCE}xyz,s=${salt},i=0`],
    ['non-numeric iterations', `r=${NONCE}xyz,s=${salt},i=4k`],
    ['empty salt', `r=${NONCE}xyz,s=,i=4096`],
    ['bad salt', `r=${NONCE}xyz,s=%%%,i=4096`],
    ['mandatory extension', `m=x,r=${NONCE}xyz,s=${salt},i=4096`],
    ['missing iterations', `r=${NONCE}xyz,s=${salt}`],
    ['garbage', 'nope'],
  ])('server-first: %s', (_label, msg) => {
    expect(() => afterFirst().handleServerFirst(msg)).toThrow(AuthError);
  });

  it('accepts one iteration', () => {
    expect(afterFirst().handleServerFirst(`r=${NONCE}xyz,s=${salt},i=1`)).toMatch(/^c=biws,r=.*,p=/);
  });

  it('reports a server error and a forged server signature', () => {
    const { client, server, clientFinal } = midway();
    expect(server.handleClientFinal(clientFinal).ok).toBe(true);
    expect(() => client.verifyServerFinal('v=' + Buffer.alloc(32).toString('base64'))).toThrow(AuthError);

    const c2 = midway().client;
    expect(() => c2.verifyServerFinal('e=invalid-proof')).toThrow(/invalid-proof/);
    const c3 = midway().client;
    expect(() => c3.verifyServerFinal('v=***')).toThrow(AuthError);
  });

  it('marks a failed server proof as an authentication failure, malformed input as a protocol error', () => {
    const { client } = midway();
    try {
      client.verifyServerFinal('v=' + Buffer.alloc(32).toString('base64'));
    } catch (e) {
      expect((e as AuthError).code).toBe('invalidPassword');
    }
    try {
      afterFirst().handleServerFirst('nope');
    } catch (e) {
      expect((e as AuthError).code).toBe('protocolViolation');
    }
    expect.assertions(2);
  });

  it('enforces message order', () => {
    const client = new ScramClientSession('x');
    expect(() => client.handleServerFirst('r=a,s=AAAA,i=1')).toThrow(AuthError);
    expect(() => client.verifyServerFinal('v=AAAA')).toThrow(AuthError);
    client.clientFirst();
    expect(() => client.clientFirst()).toThrow(AuthError);
  });
});
