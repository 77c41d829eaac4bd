// Where a statement runs and why: data the router returns and EXPLAIN ROUTE prints.
export interface RouteDecision {
  role: 'primary' | 'replica';
  shard: number;
  host: string;
  reason: string;
}

export function describeRoute(d: RouteDecision): string {
  return `role=${d.role} shard=${d.shard} host=${d.host} reason=${d.reason}`;
}
