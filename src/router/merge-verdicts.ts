// Folds the verdicts of a multi-statement text into one StatementInfo: the text runs where its strictest statement must.
import type { RouteOverride, SessionSet, StatementInfo, TransactionControl } from './statement-info.js';
import type { StatementVerdict } from './statement-verdict.js';

export function mergeVerdicts(verdicts: readonly StatementVerdict[]): StatementInfo {
  if (verdicts.length === 0) return { access: 'read', reason: 'empty', statementCount: 0 };
  const firstWrite = verdicts.find((v) => v.access === 'write');
  const transactions: TransactionControl[] = [];
  let sets: SessionSet[] = [];
  let resetAll = false;
  let routeOverride: RouteOverride | undefined;
  for (const v of verdicts) {
    if (v.transaction) transactions.push(v.transaction);
    // RESET ALL wipes what came before it, so the session applies resetAll first and then these sets.
    if (v.resetAll) {
      resetAll = true;
      sets = [];
    }
    if (v.sets) sets.push(...v.sets);
    routeOverride = v.routeOverride ?? routeOverride;
  }
  const blockChange = transactions.filter((t) => t.kind !== 'other').at(-1);
  const pin = verdicts.find((v) => v.pin)?.pin;
  return {
    access: firstWrite ? 'write' : 'read',
    reason: (firstWrite ?? verdicts[0]).reason,
    ...(transactions.length > 0 && { transaction: blockChange ?? transactions.at(-1), transactions }),
    ...(sets.length > 0 && { sets }),
    ...(resetAll && { resetAll }),
    ...(routeOverride && { routeOverride }),
    ...(pin && { pin }),
    statementCount: verdicts.length,
  };
}
