// A statement the planner cannot run across shards: reaches the client as SQLSTATE 0A000 with a hint.
export class PlanningError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}
