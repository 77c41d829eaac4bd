// One statement's classification, before the statements of a text are merged into a StatementInfo.
import type { RouteOverride, SessionSet, TransactionControl } from './statement-info.js';

export interface StatementVerdict {
  access: 'read' | 'write';
  reason: string;
  transaction?: TransactionControl;
  sets?: SessionSet[];
  resetAll?: boolean;
  routeOverride?: RouteOverride;
  pin?: string;
  /** A literal's value shaped the verdict, so another text of the same shape may differ: never cache by shape. */
  literalSensitive?: boolean;
}

export const read = (reason: string): StatementVerdict => ({ access: 'read', reason });
export const write = (reason: string): StatementVerdict => ({ access: 'write', reason });
