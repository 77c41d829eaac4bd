// The lock waits of server backends across shards, joined through clients' transactions: cycles no server sees.
//
// Each server knows which of its backends waits for which (pg_blocking_pids) and finds the cycles among
// them itself. What it cannot know is that two backends on different shards are one client's transaction:
// the transaction cannot release what its backend on shard 1 holds until its backend on shard 0 stops
// waiting. Those links, added here, close the cycles that span shards.

/** One server backend: a shard connection of a client's transaction (owner), or another session. */
export interface BackendNode<T> {
  /** Unique across servers: `host:port#pid`. */
  key: string;
  /** The shard whose database it is connected to, when known. */
  shard: number | null;
  owner: T | null;
  /** Keys of the backends it waits for (empty when it does not wait). */
  blockers: string[];
}

/** One step of a cycle: a backend waits for another (`lock`), or a transaction's backend for its other one (`link`). */
export interface WaitStep<T> {
  kind: 'lock' | 'link';
  from: BackendNode<T>;
  to: BackendNode<T>;
}

/**
 * A cycle of waits that passes through at least one client's transaction from one of its backends to
 * another, as the steps around it; null when there is none. Cycles of lock waits alone are the
 * servers' own to find, and are not reported.
 */
export function crossShardCycle<T>(nodes: BackendNode<T>[]): WaitStep<T>[] | null {
  const byKey = new Map(nodes.map((n) => [n.key, n]));
  const edges = new Map<string, WaitStep<T>[]>();
  const links: WaitStep<T>[] = [];
  for (const n of nodes) {
    const out = n.blockers.flatMap((k) => {
      const to = byKey.get(k);
      return to && to !== n ? [{ kind: 'lock' as const, from: n, to }] : [];
    });
    edges.set(n.key, out);
  }
  const byOwner = new Map<T, BackendNode<T>[]>();
  for (const n of nodes) if (n.owner !== null) byOwner.set(n.owner, [...(byOwner.get(n.owner) ?? []), n]);
  for (const members of byOwner.values()) {
    for (const waiting of members) {
      if (edges.get(waiting.key)!.length === 0) continue;
      for (const other of members) {
        if (other === waiting) continue;
        const link = { kind: 'link' as const, from: other, to: waiting };
        edges.get(other.key)!.push(link);
        links.push(link);
      }
    }
  }
  for (const link of links) {
    const path = pathBetween(link.to, link.from, edges);
    if (path) return [link, ...path];
  }
  return null;
}

/**
 * The shortest path of steps from `start` to `goal` (breadth first), or null. It leaves `start` by one of
 * its lock waits: a transaction's backends that all wait elsewhere do not wait for one another.
 */
function pathBetween<T>(
  start: BackendNode<T>,
  goal: BackendNode<T>,
  edges: Map<string, WaitStep<T>[]>,
): WaitStep<T>[] | null {
  const via = new Map<string, WaitStep<T> | null>([[start.key, null]]);
  const queue = [start];
  for (let i = 0; i < queue.length; i++) {
    const n = queue[i];
    if (n === goal) {
      const path: WaitStep<T>[] = [];
      for (let step = via.get(n.key); step; step = via.get(step.from.key)) path.unshift(step);
      return path;
    }
    for (const step of edges.get(n.key) ?? []) {
      if (via.has(step.to.key) || (n === start && step.kind === 'link')) continue;
      via.set(step.to.key, step);
      queue.push(step.to);
    }
  }
  return null;
}

/** The transactions a cycle passes through, in its order. */
export function cycleOwners<T>(cycle: WaitStep<T>[]): T[] {
  const owners: T[] = [];
  for (const step of cycle)
    if (step.from.owner !== null && !owners.includes(step.from.owner)) owners.push(step.from.owner);
  return owners;
}

/**
 * The cycle in words, from the victim's point of view, as PostgreSQL's deadlock detail lists each wait:
 * "this transaction waits on shard 0 for transaction 2; transaction 2 waits on shard 1 for this transaction".
 */
export function describeCycle<T>(cycle: WaitStep<T>[], victim: T): string {
  const locks = cycle.filter((s) => s.kind === 'lock');
  const first = Math.max(
    0,
    locks.findIndex((s) => s.from.owner === victim),
  );
  const ordered = [...locks.slice(first), ...locks.slice(0, first)];
  const names = new Map<T, string>([[victim, 'this transaction']]);
  const name = (n: BackendNode<T>): string => {
    if (n.owner === null) return `server process ${n.key.slice(n.key.lastIndexOf('#') + 1)}`;
    let known = names.get(n.owner);
    if (!known) {
      known = `transaction ${names.size + 1}`;
      names.set(n.owner, known);
    }
    return known;
  };
  return ordered
    .map(
      (s) =>
        `${name(s.from)} waits on ${s.from.shard === null ? 'a shard' : `shard ${s.from.shard}`} for ${name(s.to)}`,
    )
    .join('; ');
}
