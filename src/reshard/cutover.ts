// Phase (e) in a running proxy, in either direction: both sides are compared while clients still write (the
// live verification), then the database's new statements wait at its gate, transactions in flight finish, the
// stream into the side it switches to catches up to a marker written after the pause, the rows the stream
// touched since the live verification began are re-compared, sequences move forward, and the shard list and
// map switch in place; statements then resume there. RESHARD ... TO runs it old to new, REVERT new to old.
import { randomBytes } from 'node:crypto';
import { prepareShards, switchShards, warmShards } from '../backend/cluster-switch.js';
import type { Database } from '../backend/database.js';
import { gateOf } from '../backend/reshard-gate.js';
import type { Shard } from '../backend/shard.js';
import { StatementError } from '../backend/statement-error.js';
import type { DatabaseConfig } from '../config/schema.js';
import type { Logger } from '../logger.js';
import type { CutoverPeers } from './instances.js';
import { HeldClients, type Runner } from './connect.js';
import type { ReshardPlan, TableFacts } from './plan.js';
import { copySequences } from './schema.js';
import type { TouchedKeys } from './touched.js';
import type { TableCheck } from './verify.js';
import { verifyLive, type LiveVerification } from './verify-live.js';
import { verifyTail } from './verify-tail.js';

/** The stream a cutover waits for: from the shards serving now (plan.source) to those it switches to. */
export interface CutoverStream {
  readonly plan: ReshardPlan;
  catchUp(timeoutMs: number, run?: Runner): Promise<void>;
  /** The tables compared, and where the running stream records the keys it applies (the held tail). */
  verification(): { tables: readonly TableFacts[]; touched: TouchedKeys };
}

/** The live verification's facts, without its per-table checks. */
export type LiveSummary = Omit<LiveVerification, 'checks'>;

export interface TailSummary {
  /** Keys re-compared one by one while statements were held. */
  readonly keys: number;
  /** Tables compared whole while statements were held (truncated, or still moving after the live passes). */
  readonly whole: readonly string[];
  readonly ms: number;
}

export interface CutoverOptions {
  readonly pauseTimeoutMs: number;
  readonly log: Logger;
  readonly peers?: CutoverPeers | null;
  /** Work while statements are held, after the verification and right before the switch (the reverse slots). */
  readonly beforeSwitch?: (run: Runner) => Promise<void>;
}

export interface CutoverResult {
  /** How long new statements were held, from the pause to the switch. */
  readonly pausedMs: number;
  /** Of which: waiting for transactions in flight to finish. */
  readonly drainMs: number;
  /** Waiting for the streams to apply what the old primaries committed before the pause. */
  readonly catchUpMs: number;
  /** Comparing the tail of both sides, and moving the sequences forward. */
  readonly verifyMs: number;
  /** The work of options.beforeSwitch (the reverse slots); 0 without it. */
  readonly beforeSwitchMs: number;
  readonly checks: readonly TableCheck[];
  /** The comparison before the pause, while clients wrote. */
  readonly live: LiveSummary;
  /** The comparison in the pause, of what the stream applied since the live one began. */
  readonly tail: TailSummary;
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

/** How long after the gate opens the old shards' connections start closing. */
const closeOldAfterMs = 250;

/**
 * Closes the old shards one per turn of the event loop, once the held statements went out: closing all their
 * connections at once took the loop ~0.1 s under load, just when the held statements resumed.
 */
function closeLater(old: Shard[]): void {
  const next = () => {
    const shard = old.shift();
    if (!shard) return;
    shard.close().catch(() => {});
    setTimeout(next, 0);
  };
  setTimeout(next, closeOldAfterMs);
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

function refuseDiffering(checks: readonly TableCheck[], what: string): void {
  const differing = checks.filter((c) => !c.equal);
  if (differing.length > 0)
    throw new Error(
      `verification failed (${what}): ${differing.map((c) => `${c.table}: ${c.problem}`).join('; ')}`,
    );
}

/**
 * Before statements are held: most of the stream's backlog applied (so the held catch-up is short), both sides
 * compared while clients write (the stream recording the keys it applies from then on), and the connections
 * the held steps use opened.
 */
async function verifyBeforePause(
  stream: CutoverStream,
  touched: TouchedKeys,
  held: HeldClients,
): Promise<LiveVerification> {
  await stream.catchUp(60_000);
  const { tables } = stream.verification();
  const live = await verifyLive(stream.plan, tables, touched, () => stream.catchUp(60_000));
  refuseDiffering(live.checks, 'before the pause');
  await held.open([...stream.plan.source, ...stream.plan.target]);
  // What was written during the passes, applied before statements are held.
  await stream.catchUp(60_000, held.run);
  return live;
}

/** The work while statements are held, after the drain: catch-up, the tail, sequences, options.beforeSwitch. */
async function heldSteps(
  stream: CutoverStream,
  live: LiveVerification,
  held: HeldClients,
  options: CutoverOptions,
  deadline: number,
) {
  const mark = (from: number) => Date.now() - from;
  let at = Date.now();
  await stream.catchUp(Math.max(1, deadline - Date.now()), held.run);
  const catchUpMs = mark(at);
  at = Date.now();
  const { tables, touched } = stream.verification();
  const work = verifyTail(stream.plan, tables, touched, live.unsettled, held.run);
  const tail = await before(deadline, 'the verification', work);
  refuseDiffering(tail.checks, 'the tail');
  const { source, target } = stream.plan;
  await before(deadline, 'moving the sequences', copySequences(source, target, held.run));
  const verifyMs = mark(at);
  at = Date.now();
  if (options.beforeSwitch) await before(deadline, 'the reverse slots', options.beforeSwitch(held.run));
  const beforeSwitchMs = mark(at);
  return { catchUpMs, verifyMs, beforeSwitchMs, tail: { keys: tail.keys, whole: tail.whole, ms: tail.ms } };
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
  const held = new HeldClients();
  try {
    return await switchOver(db, stream, next, options, held);
  } finally {
    stream.verification().touched.stop();
    await held.close();
  }
}

async function switchOver(
  db: Database,
  stream: CutoverStream,
  next: DatabaseConfig,
  options: CutoverOptions,
  held: HeldClients,
): Promise<CutoverResult> {
  const { log, peers } = options;
  const prepared = await prepareShards(db, next, log);
  const live = await verifyBeforePause(stream, stream.verification().touched, held).catch(
    async (error: unknown) => {
      await Promise.all(prepared.shards.map((shard) => shard.close()));
      throw error;
    },
  );
  // Right before the pause, so the facts read describe the new shards as the switch finds them.
  await warmShards(db, prepared, log);
  const gate = gateOf(db.cluster);
  const started = Date.now();
  const deadline = started + options.pauseTimeoutMs;
  const id = randomBytes(4).toString('hex');
  gate.close();
  try {
    await Promise.all([drained(db, deadline), peers?.pause(id, next.shards, next.sharding!, deadline)]);
    const drainMs = Date.now() - started;
    const { tail, ...steps } = await heldSteps(stream, live, held, options, deadline);
    const old = switchShards(db, prepared);
    gate.open();
    const pausedMs = Date.now() - started;
    await peers
      ?.switch(id)
      .catch((error: Error) => log.warn('reshard switch not sent', { err: error.message }));
    const times = { pausedMs, drainMs, ...steps, instances: 1 + (peers?.count ?? 0) };
    const { checks, ...liveSummary } = live;
    log.info('reshard switched', {
      database: db.name,
      ...times,
      shards: next.shards.length,
      live: liveSummary,
      tail,
    });
    closeLater(old);
    return { ...times, checks, live: liveSummary, tail, id };
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
