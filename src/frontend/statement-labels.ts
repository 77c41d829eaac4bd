// Low-cardinality labels for statement metrics: what a statement does, and the class of an error's SQLSTATE.
import type { StatementKind } from '../metrics/statement-metrics.js';
import type { StatementInfo } from '../router/classify.js';

/** The metrics label for what a statement does. */
export function statementKind(info: StatementInfo): StatementKind {
  if (info.transaction) return 'transaction';
  if (info.reason === 'ddl') return 'ddl';
  if (info.access === 'write') return 'write';
  if (info.reason === 'read-only-select' || info.reason === 'copy-to' || info.reason === 'explain')
    return 'read';
  return 'utility';
}

/** The class (first two characters) of an ErrorResponse body's SQLSTATE field. */
export function sqlstateClass(body: Buffer): string {
  let pos = 0;
  while (pos < body.length && body[pos] !== 0) {
    const end = body.indexOf(0, pos + 1);
    if (end < 0) break;
    if (body[pos] === 0x43) return body.toString('latin1', pos + 1, pos + 3);
    pos = end + 1;
  }
  return 'XX';
}
