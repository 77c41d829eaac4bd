// Phase (e) in a running proxy: the database's new statements wait at its gate, transactions in flight finish,
// the streams catch up to a marker written after the pause, both sides are compared while nothing changes,
// sequences move forward, and the shard list and map switch in place; statements then resume on the new shards.
import { randomBytes } from 'node:crypto';
import { prepareShards, switchShards } from '../backend/cluster-switch.js';
import type { Database } from '../backend/database.js';
import { gateOf } from '../backend/reshard-gate.js';
import { StatementError } from '../backend/statement-error.js';
import type { DatabaseConfig } from '../config/schema.js';
import type { Logger } from '../logger.js';
import type { CutoverPeers } from './instances.js';
import type { Reshard } from './reshard.js';
import { copySequences } from './schema.js';
import type { TableCheck } from './verify.js';

export interface CutoverResult {
  /** How long new statements were held, from the pause to the switch. */
  readonly pausedMs: number;
  /** Of which: waiting for transactions in flight to finish. */
  readonly drainMs: number;
  /** Waiting for the streams to apply what the old primaries committed before the pause. */
  readonly catchUpMs: number;
  /** Comparing both sides, and moving the sequences forward. */
  readonly verifyMs: number;
  readonly checks: readonly TableCheck[];
  /** Proxy instances that paused and switched together, this one included. */
  readonly instances: number;
}

const pollMs = 5;

/** Server connections of the database in use or asked for: zero once every transaction in flight is done. */
function busy(db: Database): number {
  let n = 0;
  for (const pool of db.pools()) n += pool.total - pool.idleCount - pool.connectingCount + pool.waiting;
  return n;
}

export async function drained(db: Database, deadline: number): Promise<void> {
  while (busy(db) > 0) {
    if (Date.now() >= deadline)
      throw new Error(`${busy(db)} server connection(s) still in use when the pause timed out`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

/** Runs `work` or fails once `deadline` passes, whichever comes first. */
async function before<T>(deadline: number, what: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what} did not finish before the pause timed out`)),
      Math.max(0, deadline - Date.now()),
    );
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Switches a sharded database to the reshard's new shards. On any failure the gate lets the held statements
 * fail with reshardPauseTimeout, the old shards keep serving, and the error is thrown.
 */
export async function cutOver(
  db: Database,
  reshard: Reshard,
  next: DatabaseConfig,
  pauseTimeoutMs: number,
  log: Logger,
  peers: CutoverPeers | null = null,
): Promise<CutoverResult> {
  if (!db.cluster) throw new Error(`database "${db.name}" is not sharded: it cannot switch in place`);
  const prepared = await prepareShards(db, next, log);
  // Most of the streams' backlog is applied before statements are held, so the held catch-up is short.
  await reshard.catchUp(60_000).catch(async (error: unknown) => {
    await Promise.all(prepared.shards.map((shard) => shard.close()));
    throw error;
  });
  const gate = gateOf(db.cluster);
  const started = Date.now();
  const deadline = started + pauseTimeoutMs;
  const id = randomBytes(4).toString('hex');
  gate.close();
  try {
    await Promise.all([drained(db, deadline), peers?.pause(id, next.shards, next.sharding!, deadline)]);
    const drainMs = Date.now() - started;
    await reshard.catchUp(Math.max(1, deadline - Date.now()));
    const catchUpMs = Date.now() - started - drainMs;
    const checks = await before(deadline, 'the verification', reshard.compare());
    const differing = checks.filter((c) => !c.equal);
    if (differing.length > 0)
      throw new Error(`verification failed: ${differing.map((c) => `${c.table}: ${c.problem}`).join('; ')}`);
    await before(deadline, 'moving the sequences', copySequences(reshard.plan.source, reshard.plan.target));
    const verifyMs = Date.now() - started - drainMs - catchUpMs;
    const old = switchShards(db, prepared);
    gate.open();
    const pausedMs = Date.now() - started;
    await peers
      ?.switch(id)
      .catch((error: Error) => log.warn('reshard switch not sent', { err: error.message }));
    const times = { pausedMs, drainMs, catchUpMs, verifyMs, instances: 1 + (peers?.count ?? 0) };
    log.info('reshard switched', { database: db.name, ...times, shards: next.shards.length });
    void Promise.all(old.map((shard) => shard.close())).catch(() => {});
    return { ...times, checks };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    gate.fail(
      StatementError.of(
        'reshardPauseTimeout',
        `the reshard of database "${db.name}" was abandoned: ${reason}`,
        'run the statement again: the old shards still serve',
      ),
    );
    await peers?.abort(id).catch(() => {});
    await Promise.all(prepared.shards.map((shard) => shard.close()));
    throw error;
  }
}
