// PostgreSQL text input that the plugins read the same way: the 22P02 error for bad input, and timestamptz.
import { errorCodes } from '../errors.js';
import { PluginError } from './api.js';

/** PostgreSQL's own message for text that is no value of the type. */
export function invalidInput(type: string, text: string): PluginError {
  return new PluginError(
    errorCodes.invalidTextRepresentation.sqlstate,
    `invalid input syntax for type ${type}: "${text}"`,
  );
}

const timestampPattern =
  /^(\d{4,})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/** timestamptz text; without a zone it is read as UTC (the plugins do not follow the session's TimeZone). */
export function parseTimestamptz(text: string): Date {
  const match = timestampPattern.exec(text.trim());
  if (!match) throw invalidInput('timestamp with time zone', text);
  const [, y, mo, d, h = '0', mi = '0', s = '0', fraction = '', zone = 'Z'] = match;
  const millis = Math.round(Number(`0${fraction || '.0'}`) * 1000);
  let offsetMinutes = 0;
  if (zone.toUpperCase() !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    offsetMinutes = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || 0));
  }
  const utc = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), millis);
  const date = new Date(utc - offsetMinutes * 60_000);
  if (Number.isNaN(date.getTime())) throw invalidInput('timestamp with time zone', text);
  return date;
}
