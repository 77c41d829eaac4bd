// Statements a client session answers itself (DEALLOCATE of its own statement, the read-your-writes
// token), and the WAL positions those tokens carry.
import { parseLsn } from '../backend/lsn.js';
import type { StatementInfo } from '../router/classify.js';

/** A statement the proxy answers for this client itself (see inspect). */
export type SessionCommand =
  /** DEALLOCATE of one of the client's protocol-level statements. */
  | { kind: 'deallocate'; name: string }
  /** SHOW polyproxy.write_lsn: the position of this client's last write, a token for other services. */
  | { kind: 'show-write-lsn' }
  /** SET polyproxy.min_lsn: reads wait for this position (null: RESET). */
  | { kind: 'set-min-lsn'; lsn: bigint | null }
  | { kind: 'invalid-min-lsn'; value: string };

export interface CommandInfo extends StatementInfo {
  readonly command: SessionCommand;
}

export function commandOf(info: StatementInfo | null): SessionCommand | undefined {
  return (info as CommandInfo | null)?.command;
}

export function ownDeallocate(info: StatementInfo | null): string | undefined {
  const command = commandOf(info);
  return command?.kind === 'deallocate' ? command.name : undefined;
}

const showWriteLsn = /^\s*show\s+polyproxy\.write_lsn\s*;?\s*$/i;
const setMinLsn = /^\s*set\s+(?:session\s+)?polyproxy\.min_lsn\s*(?:=|to)\s*'?([^';\s]*)'?\s*;?\s*$/i;
const resetMinLsn = /^\s*reset\s+polyproxy\.min_lsn\s*;?\s*$/i;
const lsnText = /^[0-9A-Fa-f]{1,8}\/[0-9A-Fa-f]{1,8}$/;

/** SHOW polyproxy.write_lsn, SET / RESET polyproxy.min_lsn: the read-your-writes token, or undefined. */
export function lsnCommand(sql: string): SessionCommand | undefined {
  if (showWriteLsn.test(sql)) return { kind: 'show-write-lsn' };
  if (resetMinLsn.test(sql)) return { kind: 'set-min-lsn', lsn: null };
  const set = setMinLsn.exec(sql);
  if (!set) return undefined;
  return lsnText.test(set[1])
    ? { kind: 'set-min-lsn', lsn: parseLsn(set[1]) }
    : { kind: 'invalid-min-lsn', value: set[1] };
}

/** The later of two WAL positions (null: none). */
export function maxLsn(a: bigint | null, b: bigint | null): bigint | null {
  if (a === null) return b;
  return b === null || a >= b ? a : b;
}

/** `min_lsn=X/Y` in a statement's leading `polyproxy:` comment: a position its read must see. */
export function directiveLsn(directive: string | undefined): bigint | null {
  if (!directive || !directive.includes('min_lsn')) return null;
  const m = /(?:^|\s)min_lsn=([0-9A-Fa-f]{1,8}\/[0-9A-Fa-f]{1,8})(?:\s|$)/.exec(directive);
  return m ? parseLsn(m[1]) : null;
}
