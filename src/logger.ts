// Structured logging: JSON lines for machines, short coloured lines for a terminal; never a password.
import { fingerprintSync } from 'libpg-query';
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

const levels: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const secretKey = /pass(word)?|secret|token|verifier/i;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
  enabled(level: LogLevel): boolean;
}

export interface LoggerOptions {
  level: LogLevel;
  format: 'json' | 'pretty';
  write?: (line: string) => void;
}

/** A password inside a URL or a conninfo string (`redis://:pw@h`, `password=pw`) in an otherwise harmless value. */
const urlPassword = /(\/\/[^/:@\s]*:)[^@\s]+@/g;
const conninfoPassword = /(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)/gi;
/** Nesting deeper than this is logged as is: log fields are shallow, and a cycle must not hang the logger. */
const maxDepth = 4;

function redactValue(value: unknown, depth: number): unknown {
  if (typeof value === 'string')
    return value.replace(urlPassword, '$1[redacted]@').replace(conninfoPassword, '$1[redacted]');
  if (depth >= maxDepth || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => redactValue(v, depth + 1));
  if (value instanceof Error) return redactValue(value.message, depth);
  // Only plain records are walked; a Date or a class instance is left for JSON.stringify as before.
  return Object.getPrototypeOf(value) === Object.prototype ? redact(value as LogFields, depth + 1) : value;
}

/** Redacts fields whose name looks like a secret, at any depth, so a config dump or an auth error never leaks one. */
function redact(fields: LogFields, depth = 0): LogFields {
  const out: LogFields = {};
  for (const [k, v] of Object.entries(fields)) {
    // An absent value is no field: a line never ends in `error=undefined`.
    if (v === undefined) continue;
    out[k] = secretKey.test(k) ? '[redacted]' : redactValue(v, depth);
  }
  return out;
}

/**
 * Log fields for a statement: its fingerprint (the same for every statement that differs only in constants),
 * never its text, which may hold literals such as `ALTER ROLE ... PASSWORD '...'`. The parser must be loaded.
 */
export function statementFields(sql: string): LogFields {
  try {
    return { fingerprint: fingerprintSync(sql) };
  } catch {
    return { fingerprint: 'unparsable' };
  }
}

export function createLogger(opts: LoggerOptions, base: LogFields = {}): Logger {
  const min = levels[opts.level];
  const write = opts.write ?? ((line: string) => process.stderr.write(line + '\n'));
  const emit = (level: LogLevel, msg: string, fields?: LogFields) => {
    if (levels[level] < min) return;
    const all = redact({ ...base, ...fields });
    if (opts.format === 'json') {
      write(JSON.stringify({ time: new Date().toISOString(), level, msg, ...all }));
    } else {
      const extra = Object.entries(all)
        .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
        .join(' ');
      write(
        `${new Date().toISOString().slice(11, 23)} ${level.toUpperCase().padEnd(5)} ${msg}${extra ? ' ' + extra : ''}`,
      );
    }
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => createLogger(opts, { ...base, ...fields }),
    enabled: (level) => levels[level] >= min,
  };
}

/** A logger that prints nothing: the default for library use and tests. */
export const silentLogger: Logger = createLogger({ level: 'error', format: 'json', write: () => {} });
