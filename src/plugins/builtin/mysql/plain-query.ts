// Which translated reads run as plain queries (MySQL's text protocol) rather than as prepared statements.
import type { Slot } from './fragments.js';
import type { PgType } from './pg-types.js';
import type { Plan } from './statements.js';

/** Column types that mysql2 reads alike from MySQL's text and binary protocols (numbers, and strings as sent). */
const sameInBothProtocols: ReadonlySet<PgType> = new Set(['bool', 'int2', 'int4', 'int8', 'text']);

/**
 * A read with nothing to bind (a literal key, as simple queries send it) runs as a plain query: one round trip,
 * and no prepared statement left on the server for a text that may never come again.
 */
export function textProtocol(plan: Plan, slots: readonly Slot[]): boolean {
  return (
    plan.kind === 'select' &&
    slots.length === 0 &&
    !!plan.columns?.every((column) => !column.average && sameInBothProtocols.has(column.type))
  );
}
