// Phase (e) in a running proxy, in either direction: the database's new statements wait at its gate,
// transactions in flight finish, the stream into the side it switches to catches up to a marker written after
// the pause, both sides are compared while nothing changes, sequences move forward, and the shard list and map
// switch in place; statements then resume there. RESHARD ... TO runs it old to new, REVERT new to old.
import { randomBytes } from 'node:crypto';
import { prepareShards, switchShards } from '../backend/cluster-switch.js';
import type { Database } from '../backend/database.js';
import { gateOf } from '../backend/reshard-gate.js';
import { StatementError } from '../backend/statement-error.js';
import type { DatabaseConfig } from '../config/schema.js';
import type { Logger } from '../logger.js';
import type { CutoverPeers } from './instances.js';
import type { ReshardPlan } from './plan.js';
import { copySequences } from './schema.js';
import type { TableCheck } from './verify.js';

/** The stream a cutover waits for: from the shards serving now (plan.source) to those it switches to. */
export interface CutoverStream {
  readonly plan: ReshardPlan;
  catchUp(timeoutMs: number): Promise<void>;
  compare(): Promise<TableCheck[]>;
}

export interface CutoverOptions {
  readonly pauseTimeoutMs: number;
  readonly log: Logger;
  readonly peers?: CutoverPeers | null;
  /** Work while statements are held, after the verification and right before the switch (the reverse slots). */
  readonly beforeSwitch?: () => Promise<void>;
}

export interface CutoverResult {
  /** How long new statements were held, from the pause to the switch. */
  readonly pausedMs: number;
  /** Of which: waiting for transactions in flight to finish. */
  readonly drainMs: number;
  /** Waiting for the streams to apply what the old primaries committed before the pause. */
  readonly catchUpMs: number;
  /** Comparing both sides, and moving the sequences forward. */
  readonly verifyMs: number;
  /** The work of options.beforeSwitch (the reverse slots); 0 without it. */
  readonly beforeSwitchMs: number;
  readonly checks: readonly TableCheck[];
  /** Proxy instances that paused and switched together, this one included. */
  readonly instances: number;
  /** The cutover's id, as its steps named it to the other instances. */
  readonly id: string;
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
 * Switches a sharded database to `next`, the shards `stream` writes to. On any failure the gate lets the held
 * statements fail with reshardPauseTimeout, the shards serving now keep serving, and the error is thrown.
 */
export async function cutOver(
  db: Database,
  stream: CutoverStream,
  next: DatabaseConfig,
  options: CutoverOptions,
): Promise<CutoverResult> {
  if (!db.cluster) throw new Error(`database "${db.name}" is not sharded: it cannot switch in place`);
  const { log, peers } = options;
  const prepared = await prepareShards(db, next, log);
  // Most of the stream's backlog is applied before statements are held, so the held catch-up is short.
  await stream.catchUp(60_000).catch(async (error: unknown) => {
    await Promise.all(prepared.shards.map((shard) => shard.close()));
    throw error;
  });
  const gate = gateOf(db.cluster);
  const started = Date.now();
  const deadline = started + options.pauseTimeoutMs;
  const id = randomBytes(4).toString('hex');
  gate.close();
  try {
    await Promise.all([drained(db, deadline), peers?.pause(id, next.shards, next.sharding!, deadline)]);
    const drainMs = Date.now() - started;
    await stream.catchUp(Math.max(1, deadline - Date.now()));
    const catchUpMs = Date.now() - started - drainMs;
    const checks = await before(deadline, 'the verification', stream.compare());
    const differing = checks.filter((c) => !c.equal);
    if (differing.length > 0)
      throw new Error(`verification failed: ${differing.map((c) => `${c.table}: ${c.problem}`).join('; ')}`);
    const { source, target } = stream.plan;
    await before(deadline, 'moving the sequences', copySequences(source, target));
    const verifyMs = Date.now() - started - drainMs - catchUpMs;
    if (options.beforeSwitch) await before(deadline, 'the reverse slots', options.beforeSwitch());
    const beforeSwitchMs = Date.now() - started - drainMs - catchUpMs - verifyMs;
    const old = switchShards(db, prepared);
    gate.open();
    const pausedMs = Date.now() - started;
    await peers
      ?.switch(id)
      .catch((error: Error) => log.warn('reshard switch not sent', { err: error.message }));
    const times = {
      pausedMs,
      drainMs,
      catchUpMs,
      verifyMs,
      beforeSwitchMs,
      instances: 1 + (peers?.count ?? 0),
    };
    log.info('reshard switched', { database: db.name, ...times, shards: next.shards.length });
    void Promise.all(old.map((shard) => shard.close())).catch(() => {});
    return { ...times, checks, id };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    gate.fail(
      StatementError.of(
        'reshardPauseTimeout',
        `the reshard cutover of database "${db.name}" was abandoned: ${reason}`,
        'run the statement again: the shards that served before still serve',
      ),
    );
    await peers?.abort(id).catch(() => {});
    await Promise.all(prepared.shards.map((shard) => shard.close()));
    throw error;
  }
}
