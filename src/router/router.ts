// Decides primary or replica for the statements that open a transaction, with the reason why.
import type { RouteOverride, StatementInfo } from './classify.js';

export type { RouteOverride };

export interface SessionRouting {
  /** `SET polyproxy.route`: forces every statement of the session. */
  override: RouteOverride;
  /** Session pooling keeps one server for the whole session, so it must be the primary. */
  sessionPooling: boolean;
}

export interface Access {
  access: 'read' | 'write';
  reason: string;
}

/** The access the first statements of a transaction need; a statement hint beats the session override. */
export function accessFor(infos: readonly StatementInfo[], s: SessionRouting): Access {
  if (s.sessionPooling) return { access: 'write', reason: 'session-pooling' };
  const hint = infos[0]?.hint;
  if (hint) return { access: hint === 'primary' ? 'write' : 'read', reason: `hint-${hint}` };
  if (s.override !== 'auto')
    return { access: s.override === 'primary' ? 'write' : 'read', reason: `session-route-${s.override}` };
  const first = infos[0];
  if (!first) return { access: 'write', reason: 'no-statement' };
  // BEGIN READ ONLY may use a replica; the classifier already sends serializable ones to the primary.
  if (first.transaction?.kind === 'begin') {
    return first.access === 'read'
      ? { access: 'read', reason: 'read-only-transaction' }
      : { access: 'write', reason: first.reason };
  }
  const write = infos.find((i) => i.access === 'write');
  if (write) return { access: 'write', reason: write.reason };
  return { access: 'read', reason: first.reason };
}
