// Session settings: what a client asked for at startup, and the SQL that brings a pooled connection in line.
import { beforeAll, describe, expect, it } from 'vitest';
import type { ServerConnection } from '../../../src/backend/server-connection.js';
import { ServerSessionState } from '../../../src/backend/server-session-state.js';
import {
  reportedSettings,
  settingSql,
  settingsDiff,
  startupSettings,
  startupValues,
} from '../../../src/backend/server-settings.js';
import { loadParser, parseSql } from '../../../src/sql/parser.js';

const params = (entries: [string, string][]) => new Map(entries);

/** settingsDiff only touches the session's settings; a stand-in connection with just that. */
function fakeConn(applied: [string, string][] = []): ServerConnection {
  const session = new ServerSessionState();
  for (const [name, sql] of applied) session.settingApplied(name, sql);
  return { session } as unknown as ServerConnection;
}

describe('startupValues', () => {
  it('keeps setting parameters and drops user, database, options, replication and _pq_ extensions', () => {
    const out = startupValues(
      params([
        ['user', 'app'],
        ['database', 'appdb'],
        ['replication', 'database'],
        ['_pq_.protocol_managed_params', 'x'],
        ['application_name', 'psql'],
        ['client_encoding', 'UTF8'],
        ['DateStyle', 'ISO, MDY'],
      ]),
    );
    expect([...out]).toEqual([
      ['application_name', 'psql'],
      ['client_encoding', 'UTF8'],
      ['DateStyle', 'ISO, MDY'],
    ]);
  });

  it('reads -c name=value options, separate or joined, and --name=value', () => {
    const out = startupValues(
      params([['options', '-c search_path=a,b  -cstatement_timeout=5s --work-mem=64MB -c lock_timeout=1s']]),
    );
    expect(Object.fromEntries(out)).toEqual({
      search_path: 'a,b',
      statement_timeout: '5s',
      work_mem: '64MB',
      lock_timeout: '1s',
    });
  });

  it('turns dashes in option names into underscores, as PostgreSQL does', () => {
    expect(
      Object.fromEntries(startupValues(params([['options', '-c idle-in-transaction-session-timeout=10s']]))),
    ).toEqual({
      idle_in_transaction_session_timeout: '10s',
    });
  });

  it('honours backslash-escaped spaces in option values', () => {
    const out = startupValues(
      params([['options', '-c application_name=my\\ app\\ 2 -c DateStyle=ISO,\\ DMY']]),
    );
    expect(out.get('application_name')).toBe('my app 2');
    expect(out.get('DateStyle')).toBe('ISO, DMY');
  });

  it('ignores words that are not settings and a trailing -c', () => {
    const out = startupValues(params([['options', '-B 100 verbose -c']]));
    expect(out.size).toBe(0);
  });

  it('ignores an option without "="', () => {
    expect(startupValues(params([['options', '-c geqo']])).size).toBe(0);
  });

  it('lets an explicit startup parameter win over the same setting in options (PostgreSQL applies options first)', () => {
    // PostgreSQL's process_startup_options() runs the `options` switches first and the other startup
    // parameters after them, so `application_name=direct` beats `-c application_name=fromoptions`
    // (checked against PostgreSQL 15: SHOW application_name gives "direct").
    const out = startupValues(
      params([
        ['application_name', 'direct'],
        ['options', '-c application_name=fromoptions'],
      ]),
    );
    expect(out.get('application_name')).toBe('direct');
  });
});

describe('settingsDiff', () => {
  beforeAll(async () => {
    await loadParser();
  });

  const wanted = (entries: [string, string][]) => startupSettings(params(entries));

  it('applies every wanted setting on a fresh connection and records it as applied', () => {
    const conn = fakeConn();
    const sql = settingsDiff(
      wanted([
        ['application_name', 'app'],
        ['TimeZone', 'UTC'],
      ]),
      conn,
    );
    expect(sql).toBe(
      "SELECT pg_catalog.set_config(E'application_name', E'app', false);" +
        "SELECT pg_catalog.set_config(E'TimeZone', E'UTC', false);",
    );
    expect([...conn.session.settingNames()]).toEqual(['application_name', 'timezone']);
  });

  it('returns null when the connection already has the settings', () => {
    const conn = fakeConn([['application_name', settingSql('application_name', 'app')]]);
    expect(settingsDiff(wanted([['application_name', 'app']]), conn)).toBeNull();
    expect(settingsDiff(new Map(), fakeConn())).toBeNull();
  });

  it('applies only what differs and RESETs what the previous client applied but this one does not want', () => {
    const conn = fakeConn([
      ['application_name', settingSql('application_name', 'old')],
      ['search_path', 'SET search_path TO x'],
      ['timezone', settingSql('TimeZone', 'UTC')],
    ]);
    const sql = settingsDiff(
      wanted([
        ['application_name', 'new'],
        ['TimeZone', 'UTC'],
      ]),
      conn,
    );
    expect(sql).toBe("SELECT pg_catalog.set_config(E'application_name', E'new', false);RESET search_path;");
  });

  it('quotes values and names so the SQL is exactly the intended set_config calls', () => {
    const sql = settingsDiff(
      wanted([
        ['application_name', "it's a '); DROP TABLE t; --"],
        ['my.custom', 'v\\'],
      ]),
      fakeConn(),
    );
    const parsed = parseSql(sql!);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.statements).toHaveLength(2);
    expect(JSON.stringify(parsed.statements[0])).toContain("it's a '); DROP TABLE t; --");
  });

  it('tracks the settings PostgreSQL reports by ParameterStatus', () => {
    for (const name of ['application_name', 'client_encoding', 'datestyle', 'timezone']) {
      expect(reportedSettings.has(name), name).toBe(true);
    }
  });
});
