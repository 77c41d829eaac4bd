// EXPLAIN ROUTE for a sharded database: the operator tree a statement would run, one text line per operator.
import { explainLines } from '../engine/types.js';
import { errorCodes } from '../errors.js';
import type { Node } from '../router/sharding/ast-values.js';
import type { ShardRoute } from '../router/sharding/shard-route.js';
import { planStatement, type StatementFacts } from './plan-statement.js';
import { PlanningError } from './planning-error.js';

export function explainRoute(route: ShardRoute, stmt: Node, facts: StatementFacts): string[] {
  try {
    return explainLines(planStatement(route, stmt, facts));
  } catch (err) {
    if (err instanceof PlanningError)
      return [
        `Unsupported (${errorCodes.featureNotSupported.sqlstate}): ${err.message}${err.hint ? ` -- hint: ${err.hint}` : ''}`,
      ];
    throw err;
  }
}
