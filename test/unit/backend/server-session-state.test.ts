// What the proxy knows of a server session: each change named after what happened on the server, and a
// Parse's name forgotten again when the server rejects or skips it.
import { describe, expect, it } from 'vitest';
import { ParseKind, ResponseRelay } from '../../../src/backend/response-relay.js';
import {
  ServerSessionState,
  parseSent,
  unnamedParseSent,
} from '../../../src/backend/server-session-state.js';
import * as w from '../fixtures/wire.js';

/** A server connection's relay and session, as parseSent sees them; replies are fed in as bytes. */
function connection() {
  const relay = new ResponseRelay();
  const conn = { relay, session: new ServerSessionState() };
  return { conn, reply: (...messages: Buffer[]) => relay.process(Buffer.concat(messages)) };
}

describe('ServerSessionState: prepared statements', () => {
  it('counts a name as prepared from the Parse on, and its undo forgets it', () => {
    const s = new ServerSessionState();
    const undo = s.preparing('pp_1');
    expect(s.preparedHas('pp_1')).toBe(true);
    expect(s.preparedCount).toBe(1);
    undo();
    expect(s.preparedHas('pp_1')).toBe(false);
    expect(s.preparedCount).toBe(0);
  });

  it('records a statement the server confirmed, and forgets every one on DEALLOCATE ALL', () => {
    const s = new ServerSessionState();
    s.statementPrepared('pp_1');
    s.preparing('pp_2');
    expect(s.preparedCount).toBe(2);
    s.forgetPrepared();
    expect(s.preparedHas('pp_1')).toBe(false);
    expect(s.preparedHas('pp_2')).toBe(false);
    expect(s.preparedCount).toBe(0);
  });
});

describe('ServerSessionState: settings', () => {
  it('records applied settings in order, their RESET, and forgets them all', () => {
    const s = new ServerSessionState();
    s.settingApplied('timezone', "SET timezone = 'UTC'");
    s.settingApplied('application_name', "SET application_name = 'a'");
    s.settingApplied('timezone', "SET timezone = 'CET'");
    expect(s.setting('timezone')).toBe("SET timezone = 'CET'");
    expect([...s.settingNames()]).toEqual(['timezone', 'application_name']);
    expect(s.settingsCount).toBe(2);
    s.settingReset('timezone');
    expect(s.setting('timezone')).toBeUndefined();
    expect(s.settingsCount).toBe(1);
    s.forgetSettings();
    expect(s.settingsCount).toBe(0);
    expect([...s.settingNames()]).toEqual([]);
  });

  it('DISCARD ALL forgets statements and settings; forgetting settings keeps statements', () => {
    const s = new ServerSessionState();
    s.statementPrepared('pp_1');
    s.settingApplied('timezone', "SET timezone = 'UTC'");
    s.forgetSettings();
    expect(s.preparedHas('pp_1')).toBe(true);
    s.settingApplied('timezone', "SET timezone = 'UTC'");
    s.discarded();
    expect(s.preparedCount).toBe(0);
    expect(s.settingsCount).toBe(0);
  });
});

describe('ServerSessionState: the unnamed statement', () => {
  it('knows whose unnamed statement the server holds until it is dropped or fails', () => {
    const s = new ServerSessionState();
    const a = {};
    const b = {};
    expect(s.unnamedOwner).toBeNull();
    s.unnamedDefined(a);
    expect(s.unnamedOwner).toBe(a);
    s.unnamedFailed(b);
    expect(s.unnamedOwner).toBe(a);
    s.unnamedFailed(a);
    expect(s.unnamedOwner).toBeNull();
    s.unnamedDefined(b);
    s.unnamedDropped();
    expect(s.unnamedOwner).toBeNull();
  });
});

describe('parseSent', () => {
  it('keeps the name when the server answers ParseComplete', () => {
    const { conn, reply } = connection();
    let ok = 0;
    let failed = 0;
    const sent = parseSent(
      conn,
      'pp_1',
      ParseKind.Injected,
      () => ok++,
      () => failed++,
    );
    expect(sent).toBe(true);
    expect(conn.session.preparedHas('pp_1')).toBe(true);
    reply(w.parseComplete(), w.readyForQuery('I'));
    expect(conn.session.preparedHas('pp_1')).toBe(true);
    expect([ok, failed]).toEqual([1, 0]);
  });

  it('forgets the name and runs onFail when the server rejects the Parse', () => {
    const { conn, reply } = connection();
    let failed = 0;
    parseSent(conn, 'pp_1', ParseKind.Client, undefined, () => failed++);
    reply(w.simpleError('42P01', 'relation "missing" does not exist'), w.readyForQuery('I'));
    expect(conn.session.preparedHas('pp_1')).toBe(false);
    expect(failed).toBe(1);
  });

  it('forgets the name when the server skips the Parse after an earlier error of the round', () => {
    const { conn, reply } = connection();
    parseSent(conn, 'pp_1', ParseKind.Injected);
    parseSent(conn, 'pp_2', ParseKind.Injected);
    reply(w.simpleError('42P01', 'relation "missing" does not exist'));
    // The server skips every message after an error up to Sync: neither name is on the server.
    expect(conn.session.preparedHas('pp_1')).toBe(false);
    expect(conn.session.preparedHas('pp_2')).toBe(false);
    reply(w.readyForQuery('I'));
    expect(conn.session.preparedCount).toBe(0);
  });

  it('records nothing, and runs onFail, for a Parse sent after the round already failed', () => {
    const { conn, reply } = connection();
    parseSent(conn, 'pp_1', ParseKind.Client);
    reply(w.simpleError('42P01', 'relation "missing" does not exist'));
    let failed = 0;
    expect(parseSent(conn, 'pp_2', ParseKind.Client, undefined, () => failed++)).toBe(false);
    expect(conn.session.preparedHas('pp_2')).toBe(false);
    expect(failed).toBe(1);
  });
});

describe('unnamedParseSent', () => {
  it('makes the owner the holder of the unnamed statement while the server accepts its Parse', () => {
    const { conn, reply } = connection();
    const owner = {};
    expect(unnamedParseSent(conn, owner, ParseKind.Client)).toBe(true);
    expect(conn.session.unnamedOwner).toBe(owner);
    reply(w.parseComplete(), w.readyForQuery('I'));
    expect(conn.session.unnamedOwner).toBe(owner);
  });

  it('leaves the server holding none, and runs onFail, when the Parse is rejected', () => {
    const { conn, reply } = connection();
    const owner = {};
    let failed = 0;
    unnamedParseSent(conn, owner, ParseKind.Client, () => failed++);
    reply(w.simpleError('42601', 'syntax error'), w.readyForQuery('I'));
    expect(conn.session.unnamedOwner).toBeNull();
    expect(failed).toBe(1);
  });

  it('records nothing, and runs onFail, for a Parse sent after the round already failed', () => {
    const { conn, reply } = connection();
    const first = {};
    unnamedParseSent(conn, first, ParseKind.Client);
    reply(w.simpleError('42601', 'syntax error'));
    let failed = 0;
    expect(unnamedParseSent(conn, {}, ParseKind.Client, () => failed++)).toBe(false);
    expect(conn.session.unnamedOwner).toBeNull();
    expect(failed).toBe(1);
  });
});
