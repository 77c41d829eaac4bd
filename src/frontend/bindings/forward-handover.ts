// A one-shard session handed to the engine when a reshard makes its database sharded in place: what the
// client made of its session (prepared statements, settings, route, read-your-writes) carries over.
import { readParse } from '../../protocol/extended-messages.js';
import type { RouteOverride } from '../../router/router.js';
import type { EngineState } from './engine/engine-state.js';
import type { ForwardBinding } from './forward-binding.js';

/** What a session's client made of it, read from the binding that served it so far. */
export interface CarriedSession {
  /** Named prepared statements: the client's name, its text and parameter types. */
  readonly statements: readonly { name: string; sql: string; types: number[] }[];
  /** Session settings as replayable SQL by lower-case name (SET, SET polyproxy.* aside). */
  readonly settings: Map<string, string>;
  /** SET polyproxy.route. */
  readonly route: RouteOverride;
  /** The client wrote (or was given a position to read after): its reads must see that. */
  readonly wrote: boolean;
}

/** What the forward binding holds of its client's session, between transactions. */
export function carriedFrom(f: ForwardBinding): CarriedSession {
  const statements = [...f.fwd.statements.entries()].map(([name, stmt]) => {
    const parse = readParse(stmt.parse);
    return { name, sql: parse.sql, types: parse.paramTypes };
  });
  const wrote = f.positions.own !== null || f.positions.token !== null;
  return { statements, settings: new Map(f.settings), route: f.override, wrote };
}

/**
 * A statement's parse, or null when the proxy's parser refuses it: the engine would have refused its Parse,
 * so it is not carried (a later Bind gets "does not exist").
 */
function parsedOrNull(
  s: EngineState,
  sql: string,
): ReturnType<EngineState['parse']>[number] | undefined | null {
  try {
    return s.parse(sql, false)[0];
  } catch {
    return null;
  }
}

/**
 * Seeds a new engine session with it. Statements are parsed here once, as a Parse would; settings reach each
 * shard connection as the engine applies them. The old server's WAL positions mean nothing on the new shards,
 * so a client that wrote reads from their primaries until its next write there tells a position.
 */
export function seedEngine(s: EngineState, carried: CarriedSession): void {
  for (const { name, sql, types } of carried.statements) {
    const piece = parsedOrNull(s, sql);
    if (piece !== null) s.statementsByName.set(name, { name, sql, types, stmt: piece?.stmt ?? null });
  }
  s.runner.settings = new Map(carried.settings);
  s.sessionRoute = carried.route;
  if (carried.wrote) s.runner.readFromPrimaries();
}
