// Two-phase commit across shards with a decision log in shard 0 (polyproxy.tx_decisions), and its resolver.
//
// The coordinator prepares every participant, then records "commit" for the transaction id in the log,
// then commits the prepared transactions. The log row is the decision: whoever inserts a row for a gid
// first decides, so a resolver that finds a prepared transaction without a row inserts "abort" and rolls
// it back, and a coordinator that finds "abort" there rolls back too. Any proxy instance can resolve.
// The log is created on its first use, once per shard, and not again with every decision.
import type { ServerEndpoint } from './server-connection.js';
import { errorCodes } from '../errors.js';
import type { ShardChannel } from './shard-channel.js';
import { runSimple, sqlLiteral, textOf } from './shard-exec.js';
import { StatementError } from './statement-error.js';

export const gidPrefix = 'polyproxy_';

/**
 * The name a transaction is prepared under on one shard: prepared-transaction names are unique per server,
 * and several shards may be databases of one server.
 */
export function participantGid(gid: string, shard: number): string {
  return `${gid}_s${shard}`;
}

/** The transaction a prepared name belongs to (names without a shard suffix came from older versions). */
export function transactionGid(local: string): string {
  return local.replace(/_s\d+$/, '');
}

const decisionLogSql =
  'CREATE SCHEMA IF NOT EXISTS polyproxy; ' +
  'CREATE TABLE IF NOT EXISTS polyproxy.tx_decisions (gid text PRIMARY KEY, decision text NOT NULL, ' +
  'decided_at timestamptz NOT NULL DEFAULT now())';

/** The advisory lock key ("pp2pc" in ASCII) under which proxy instances create the decision log one at a time. */
const createLockKey = 0x7070327063;

/** The log's creation per shard pool (its connections share one endpoint object): one attempt in flight. */
const logReady = new WeakMap<ServerEndpoint, Promise<void>>();

const rivalCreated: string[] = [
  errorCodes.uniqueViolation.sqlstate,
  errorCodes.duplicateSchema.sqlstate,
  errorCodes.duplicateTable.sqlstate,
];
const logMissing: string[] = [errorCodes.undefinedTable.sqlstate, errorCodes.invalidSchemaName.sqlstate];

function failedWith(err: unknown, sqlstates: string[]): boolean {
  return err instanceof StatementError && sqlstates.includes(err.sqlstate);
}

/**
 * Makes sure the decision log exists on the log's shard, creating it on first use. Concurrent callers
 * share one attempt; a failed attempt is forgotten so that the next decision tries again.
 */
export function ensureDecisionLog(log: ShardChannel): Promise<void> {
  const key = log.conn.endpoint;
  let ready = logReady.get(key);
  if (!ready) {
    const attempt = createDecisionLog(log);
    attempt.catch(() => {
      if (logReady.get(key) === attempt) logReady.delete(key);
    });
    logReady.set(key, attempt);
    ready = attempt;
  }
  return ready;
}

async function logExists(log: ShardChannel): Promise<boolean> {
  const answer = await runSimple(log, "SELECT to_regclass('polyproxy.tx_decisions') IS NOT NULL");
  return textOf(answer.rows[0]?.[0] ?? null) === 't';
}

/**
 * CREATE … IF NOT EXISTS is not safe under concurrency in PostgreSQL (two sessions may both insert the
 * catalog row, and one fails with a unique violation), so creators take a session advisory lock and create
 * the log in a transaction of its own, begun after the lock: it sees a log a rival committed meanwhile.
 */
async function createDecisionLog(log: ShardChannel): Promise<void> {
  if (await logExists(log)) return;
  await runSimple(log, `SELECT pg_advisory_lock(${createLockKey})`);
  try {
    await runSimple(log, decisionLogSql);
  } catch (err) {
    // A proxy that creates the log without the lock (an older version) may have won the race.
    if (!failedWith(err, rivalCreated) || !(await logExists(log))) throw err;
  } finally {
    await runSimple(log, `SELECT pg_advisory_unlock(${createLockKey})`).catch(() => {});
  }
}

/**
 * Test hooks standing in for a crash of the proxy at a point of the protocol: when one returns true, the
 * coordinator stops there and drops its connections, leaving the shards as a crash would.
 */
export const failpoints: { afterPrepare?: () => boolean; afterDecision?: () => boolean } = {};

export class CoordinatorCrashed extends Error {}

/** Records a decision unless one exists; returns the decision that holds. */
export async function decide(log: ShardChannel, gid: string, decision: 'commit' | 'abort'): Promise<string> {
  const sql =
    `INSERT INTO polyproxy.tx_decisions (gid, decision) VALUES (${sqlLiteral(gid)}, ${sqlLiteral(decision)}) ` +
    `ON CONFLICT (gid) DO NOTHING; SELECT decision FROM polyproxy.tx_decisions WHERE gid = ${sqlLiteral(gid)}`;
  await ensureDecisionLog(log);
  let answer;
  try {
    answer = await runSimple(log, sql);
  } catch (err) {
    // The log was dropped since it was made (its shard's database made anew, say): make it again.
    if (!failedWith(err, logMissing)) throw err;
    logReady.delete(log.conn.endpoint);
    await ensureDecisionLog(log);
    answer = await runSimple(log, sql);
  }
  return textOf(answer.rows[0]?.[0] ?? null) ?? decision;
}

async function settle<T>(items: T[], f: (item: T) => Promise<unknown>): Promise<(Error | null)[]> {
  const results = await Promise.allSettled(items.map(f));
  return results.map((r) => (r.status === 'rejected' ? (r.reason as Error) : null));
}

/**
 * Commits a transaction open on every participant. Failures before the decision roll every shard back
 * and throw; after the decision the transaction is committed, even if a shard must wait for the resolver.
 */
export async function commitTwoPhase(
  participants: ShardChannel[],
  gid: string,
  openLog: () => Promise<ShardChannel>,
  closeLog: (c: ShardChannel) => void,
): Promise<void> {
  const local = (p: ShardChannel) => sqlLiteral(participantGid(gid, p.shard));
  const prepared = new Set<ShardChannel>();
  const prepareErrors = await settle(participants, async (p) => {
    await runSimple(p, `PREPARE TRANSACTION ${local(p)}`);
    prepared.add(p);
  });
  if (failpoints.afterPrepare?.()) throw new CoordinatorCrashed('crashed after PREPARE TRANSACTION');
  const rollback = async (cause: Error) => {
    await settle([...prepared], (p) => runSimple(p, `ROLLBACK PREPARED ${local(p)}`));
    await settle(
      participants.filter((p) => !prepared.has(p) && p.status !== 0x49),
      (p) => runSimple(p, 'ROLLBACK'),
    );
    throw cause instanceof StatementError
      ? cause
      : StatementError.of('transactionRollback', `distributed transaction rolled back: ${cause.message}`);
  };
  const failed = prepareErrors.findIndex((e) => e !== null);
  if (failed >= 0) {
    const e = prepareErrors[failed]!;
    // The shard's own error (a deferred constraint, say) is what the client would see from COMMIT.
    if (e instanceof StatementError) return rollback(e);
    const shard = participants[failed].shard;
    return rollback(new Error(`PREPARE TRANSACTION failed on shard ${shard}: ${e.message}`));
  }
  let decision: string;
  let log: ShardChannel | null = null;
  try {
    log = await openLog();
    decision = await decide(log, gid, 'commit');
  } catch (err) {
    return rollback(new Error(`could not record the commit decision on shard 0: ${(err as Error).message}`));
  } finally {
    if (log) closeLog(log);
  }
  if (decision !== 'commit') return rollback(new Error('the in-doubt resolver rolled it back first'));
  if (failpoints.afterDecision?.()) throw new CoordinatorCrashed('crashed after the commit decision');
  const commitErrors = await settle(participants, (p) => runSimple(p, `COMMIT PREPARED ${local(p)}`));
  // Shards that missed COMMIT PREPARED are committed by the resolver, which finds the decision logged.
  if (commitErrors.every((e) => e === null)) {
    const cleanup = await openLog().catch(() => null);
    if (cleanup) {
      await runSimple(cleanup, `DELETE FROM polyproxy.tx_decisions WHERE gid = ${sqlLiteral(gid)}`).catch(
        () => {},
      );
      closeLog(cleanup);
    }
  }
}

export interface ResolveOutcome {
  committed: string[];
  rolledBack: string[];
}

/**
 * Finishes transactions left prepared by a coordinator that stopped: commit when the log says commit,
 * otherwise record abort and roll back. Only transactions prepared at least `minAgeMs` ago are touched,
 * so live coordinators of other instances are not raced without need.
 */
export async function resolveInDoubt(
  shards: ShardChannel[],
  log: ShardChannel,
  minAgeMs: number,
): Promise<ResolveOutcome> {
  const outcome: ResolveOutcome = { committed: [], rolledBack: [] };
  const byGid = new Map<string, { shard: ShardChannel; local: string }[]>();
  for (const s of shards) {
    const answer = await runSimple(
      s,
      `SELECT gid FROM pg_prepared_xacts WHERE database = current_database() AND gid LIKE '${gidPrefix}%' ` +
        `AND prepared <= now() - interval '${Math.max(0, Math.floor(minAgeMs))} milliseconds'`,
    );
    for (const row of answer.rows) {
      const local = textOf(row[0])!;
      const gid = transactionGid(local);
      byGid.set(gid, [...(byGid.get(gid) ?? []), { shard: s, local }]);
    }
  }
  for (const [gid, holders] of byGid) {
    const decision = await decide(log, gid, 'abort');
    const verb = decision === 'commit' ? 'COMMIT' : 'ROLLBACK';
    for (const h of holders) await runSimple(h.shard, `${verb} PREPARED ${sqlLiteral(h.local)}`);
    (decision === 'commit' ? outcome.committed : outcome.rolledBack).push(gid);
  }
  // Committed ones are done everywhere now; abort rows stay a while to turn away a late coordinator.
  const done = outcome.committed.map(sqlLiteral);
  if (byGid.size > 0) {
    await runSimple(
      log,
      `DELETE FROM polyproxy.tx_decisions WHERE ${done.length ? `gid IN (${done.join(', ')}) OR ` : ''}` +
        `decided_at < now() - interval '1 hour'`,
    );
  }
  return outcome;
}
