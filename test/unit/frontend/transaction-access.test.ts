// Read-only transactions as plugins see them: the block's access mode from BEGIN / SET TRANSACTION, else the session default.
import { beforeAll, describe, expect, it } from 'vitest';
import { startupSettings, startupValues } from '../../../src/backend/server-settings.js';
import { defaultReadOnly, TransactionAccess } from '../../../src/frontend/transaction-access.js';
import { classifySql } from '../../../src/router/classify.js';
import { loadParser } from '../../../src/sql/parser.js';

beforeAll(() => loadParser());

/**
 * A client as the session follows it: settings as replayable SQL (the classifier's `sets`), the block
 * open or not, and the tracker fed before each statement's effects, as ClientSession.track() does.
 */
class Client {
  readonly access = new TransactionAccess();
  inBlock = false;
  constructor(readonly settings = new Map<string, string>()) {}

  run(...statements: string[]): this {
    for (const sql of statements) {
      const info = classifySql(sql, { primaryFunctions: new Set() });
      this.access.see(info, this.inBlock, this.settings);
      const tx = info.transaction;
      if (tx?.kind === 'begin') this.inBlock = true;
      else if ((tx?.kind === 'commit' || tx?.kind === 'rollback') && !tx.chain) this.inBlock = false;
      for (const s of info.sets ?? []) {
        if (s.sql === null) this.settings.delete(s.name);
        else this.settings.set(s.name, s.sql);
      }
    }
    return this;
  }

  get readOnly(): boolean {
    return this.access.readOnly(this.inBlock, this.settings);
  }
}

const startup = (options: string) => startupSettings(startupValues(new Map([['options', options]])));

describe('TransactionAccess', () => {
  it.each([
    [['BEGIN READ ONLY'], true],
    [['START TRANSACTION READ ONLY, ISOLATION LEVEL SERIALIZABLE'], true],
    [['BEGIN'], false],
    [['BEGIN', 'SET TRANSACTION READ ONLY'], true],
    [['BEGIN', 'SET transaction_read_only = on'], true],
    [['BEGIN', "SET transaction_read_only TO 'yes'"], true],
    [['BEGIN READ ONLY', 'SET TRANSACTION READ WRITE'], false],
    [['BEGIN READ ONLY', 'SET TRANSACTION ISOLATION LEVEL REPEATABLE READ'], true],
    [['BEGIN READ ONLY', 'SAVEPOINT s', 'RELEASE s'], true],
    [['BEGIN READ ONLY', 'BEGIN'], true],
    [['BEGIN READ ONLY', 'COMMIT'], false],
    [['BEGIN READ ONLY', 'COMMIT AND CHAIN'], true],
    [['BEGIN READ ONLY', 'ROLLBACK'], false],
    [['SET TRANSACTION READ ONLY'], false],
    [['BEGIN READ ONLY; SELECT 1; COMMIT'], false],
    [['BEGIN; SET TRANSACTION READ ONLY'], true],
  ])('%j gives read-only %s', (statements, expected) => {
    expect(new Client().run(...statements).readOnly).toBe(expected);
  });

  it('follows default_transaction_read_only however the client sets it', () => {
    for (const set of [
      'SET default_transaction_read_only = on',
      'SET default_transaction_read_only TO true',
      "SET SESSION default_transaction_read_only = 'on'",
      'SET default_transaction_read_only = 1',
      'SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY',
    ]) {
      const client = new Client().run(set);
      expect([set, client.readOnly]).toEqual([set, true]);
      expect([set, client.run('BEGIN').readOnly]).toEqual([set, true]);
      expect([set, client.run('COMMIT', 'BEGIN READ WRITE').readOnly]).toEqual([set, false]);
      expect([set, client.run('COMMIT', 'RESET default_transaction_read_only').readOnly]).toEqual([
        set,
        false,
      ]);
    }
    expect(new Client().run('SET default_transaction_read_only = off').readOnly).toBe(false);
    expect(new Client().run('SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE').readOnly).toBe(false);
  });

  it('reads the default from the startup options, which RESET ALL returns to', () => {
    const client = new Client(startup('-c default_transaction_read_only=on'));
    expect(client.readOnly).toBe(true);
    expect(client.run('BEGIN').readOnly).toBe(true);
    expect(client.run('COMMIT', 'BEGIN TRANSACTION READ WRITE').readOnly).toBe(false);
    expect(new Client(startup('-c default_transaction_read_only=off')).readOnly).toBe(false);
    expect(defaultReadOnly(startup('--default-transaction-read-only=yes'))).toBe(true);
  });

  it('keeps the mode a block began with when the default changes inside it', () => {
    const client = new Client().run('BEGIN', 'SET default_transaction_read_only = on');
    expect(client.readOnly).toBe(false);
    expect(client.run('COMMIT').readOnly).toBe(true);
  });
});
