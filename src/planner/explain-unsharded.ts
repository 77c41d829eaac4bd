// EXPLAIN ROUTE for an unsharded database, in the sharded plans' format: one Passthrough operator line.
import type { RouteDecision } from '../router/route-decision.js';

/** Where the statement would go: a routing decision, the server an open transaction holds, or nowhere. */
export type PassthroughTarget =
  RouteDecision | { role: string; host: string; reason: 'open-transaction' } | null;

/** The line of the Passthrough operator: the client's bytes go to one server, the reply comes back as sent. */
export function explainPassthrough(target: PassthroughTarget): string {
  if (!target) return 'Passthrough target=none reason=no-server-available';
  const shard = 'shard' in target ? ` shard=${target.shard}` : '';
  return `Passthrough target=${target.role}${shard} host=${target.host} reason=${target.reason}`;
}
