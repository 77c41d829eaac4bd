// Session settings a client expects on every server connection it is given under transaction pooling.
import type { ServerConnection } from '../backend/server-connection.js';

/** Settings carried over: the ones PostgreSQL reports by ParameterStatus, plus startup `-c` options. */
export const trackedSettings = new Set([
  'application_name',
  'client_encoding',
  'DateStyle',
  'IntervalStyle',
  'TimeZone',
  'standard_conforming_strings',
  'search_path',
  'extra_float_digits',
]);

/** Startup parameters that are not settings. */
const notSettings = new Set(['user', 'database', 'options', 'replication']);

/** The settings a client asked for at startup, including `options=-c name=value`. */
export function startupSettings(params: Map<string, string>): Map<string, string> {
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
/** An escape string literal: safe whatever standard_conforming_strings is. */
const quote = (v: string) => `E'${v.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
const ident = (n: string) => (/^[A-Za-z_][A-Za-z0-9_.]*$/.test(n) ? n : `"${n.replace(/"/g, '""')}"`);

/** SQL that makes the server's settings equal the client's, or null when they already are. */
export function settingsDiff(wanted: Map<string, string>, conn: ServerConnection): string | null {
  let sql = '';
  for (const [name, value] of wanted) {
    if (conn.applied.get(name) !== value) {
      // set_config takes the value as startup does: "a,b" stays a list, not one quoted name.
      sql += `SELECT pg_catalog.set_config(${quote(name)}, ${quote(value)}, false);`;
      conn.applied.set(name, value);
    }
  }
  for (const name of conn.applied.keys()) {
    if (!wanted.has(name)) {
      sql += `RESET ${ident(name)};`;
      conn.applied.delete(name);
    }
  }
  return sql || null;
}
