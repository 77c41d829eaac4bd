// Session settings a client expects on every server connection it is given under transaction pooling.
import type { ServerConnection } from './server-connection.js';

/** Settings PostgreSQL reports by ParameterStatus (lower-cased): a change on the server follows the client. */
export const reportedSettings = new Set([
  'application_name',
  'client_encoding',
  'datestyle',
  'intervalstyle',
  'timezone',
  'standard_conforming_strings',
  'search_path',
]);

/** Startup parameters that are not settings. */
const notSettings = new Set(['user', 'database', 'options', 'replication']);

/** The settings (name -> value) a client asked for at startup, including `options=-c name=value`. */
export function startupValues(params: Map<string, string>): Map<string, string> {
  const out = new Map<string, string>();
  // PostgreSQL applies `options` first, so a parameter given directly wins over the same one in options.
  const options = params.get('options');
  if (options) {
    const parts = options.match(/(?:\\.|[^\s])+/g) ?? [];
    for (let i = 0; i < parts.length; i++) {
      let opt = parts[i];
      if (opt === '-c' && i + 1 < parts.length) opt = parts[++i];
      else if (opt.startsWith('-c')) opt = opt.slice(2);
      else if (opt.startsWith('--')) opt = opt.slice(2);
      else continue;
      const eq = opt.indexOf('=');
      if (eq > 0) out.set(opt.slice(0, eq).replace(/-/g, '_'), opt.slice(eq + 1).replace(/\\(.)/g, '$1'));
    }
  }
  for (const [k, v] of params) if (!notSettings.has(k) && !k.startsWith('_pq_.')) out.set(k, v);
  return out;
}

/** An escape string literal: safe whatever standard_conforming_strings is. */
const quote = (v: string) => `E'${v.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
const ident = (n: string) => (/^[A-Za-z_][A-Za-z0-9_.]*$/.test(n) ? n : `"${n.replace(/"/g, '""')}"`);

/** The statement that gives a setting a value as startup does ("a,b" stays a list, not one quoted name). */
export function settingSql(name: string, value: string): string {
  return `SELECT pg_catalog.set_config(${quote(name)}, ${quote(value)}, false)`;
}

/** Startup values as replayable statements, keyed by lower-case name. */
export function startupSettings(values: Map<string, string>): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of values) out.set(k.toLowerCase(), settingSql(k, v));
  return out;
}

/** SQL that makes the server's session settings equal the client's, or null when they already are. */
export function settingsDiff(wanted: Map<string, string>, conn: ServerConnection): string | null {
  let sql = '';
  for (const [name, statement] of wanted) {
    if (conn.session.setting(name) !== statement) {
      sql += statement + ';';
      conn.session.settingApplied(name, statement);
    }
  }
  for (const name of conn.session.settingNames()) {
    if (!wanted.has(name)) {
      sql += `RESET ${ident(name)};`;
      conn.session.settingReset(name);
    }
  }
  return sql || null;
}

/** Whether the server's session settings already equal the client's (settingsDiff would return null). */
export function settingsApplied(wanted: Map<string, string>, conn: ServerConnection): boolean {
  if (wanted.size !== conn.session.settingsCount) return false;
  for (const [name, statement] of wanted) if (conn.session.setting(name) !== statement) return false;
  return true;
}
