// Where a statement runs and why: data the router returns and EXPLAIN ROUTE prints (src/planner/explain-unsharded.ts).
export interface RouteDecision {
  role: 'primary' | 'replica';
  shard: number;
  host: string;
  reason: string;
}
