// Where a reshard stands, kept in a table on the first old primary so a restarted command resumes there.
import pg from 'pg';
import type { ServerLogin } from '../streams/stream-lock.js';
import { withClient, type Runner } from './connect.js';

/**
 * The phases in order; each one's work is done when the state names the next. After the switch the reverse
 * stream runs (`reverse`) until FINISH (`finished`) or REVERT (`reverted`); `switched` is a reshard that ended
 * at its switch before the reverse stream existed. `left` is kept on the *new* first primary by a REVERT: the
 * rows went back to the old shards, so a proxy started on the new shards' config must not serve them.
 */
export const phases = [
  'schema',
  'copy',
  'indexes',
  'stream',
  'verified',
  'switched',
  'reverse',
  'reverted',
  'finished',
  'cancelled',
  'left',
] as const;

export type Phase = (typeof phases)[number];

/** Phases after which nothing is left to resume (every one from the switch on): a new reshard starts afresh. */
export const endedPhases: readonly Phase[] = phases.slice(phases.indexOf('switched'));

export interface ReshardState {
  readonly phase: Phase;
  /** Free-form facts of the phases (slot positions, rows copied, the verification result). */
  readonly detail: Record<string, unknown>;
}

const ensureSql = `CREATE TABLE IF NOT EXISTS polyproxy_reshard (
  database text PRIMARY KEY, phase text NOT NULL, detail jsonb NOT NULL DEFAULT '{}', updated_at timestamptz NOT NULL DEFAULT now())`;

export class StateStore {
  constructor(
    private readonly server: ServerLogin,
    private readonly database: string,
  ) {}

  private async run<T>(work: (client: pg.Client) => Promise<T>, using: Runner = withClient): Promise<T> {
    return using(this.server, async (client) => {
      await client.query(ensureSql);
      return work(client);
    });
  }

  /** The reshard's state, or null when none was started (or the last one was forgotten). */
  read(): Promise<ReshardState | null> {
    return this.run(async (client) => {
      const { rows } = await client.query<ReshardState>(
        'SELECT phase, detail FROM polyproxy_reshard WHERE database = $1',
        [this.database],
      );
      return rows[0] ?? null;
    });
  }

  /** Records a phase reached, merging the detail into what earlier phases recorded (over `using`'s connection). */
  write(phase: Phase, detail: Record<string, unknown> = {}, using?: Runner): Promise<void> {
    return this.run(async (client) => {
      await client.query(
        `INSERT INTO polyproxy_reshard (database, phase, detail) VALUES ($1, $2, $3)
         ON CONFLICT (database) DO UPDATE SET phase = $2, detail = polyproxy_reshard.detail || $3, updated_at = now()`,
        [this.database, phase, JSON.stringify(detail)],
      );
    }, using);
  }

  /** Forgets the database's state where the table may not exist (a reshard's new shards), creating nothing. */
  async forgetIfKept(): Promise<void> {
    await withClient(this.server, async (client) => {
      const { rows } = await client.query<{ kept: boolean }>(
        "SELECT to_regclass('polyproxy_reshard') IS NOT NULL AS kept",
      );
      if (rows[0]?.kept)
        await client.query('DELETE FROM polyproxy_reshard WHERE database = $1', [this.database]);
    });
  }

  forget(): Promise<void> {
    return this.run(async (client) => {
      await client.query('DELETE FROM polyproxy_reshard WHERE database = $1', [this.database]);
    });
  }
}

/** Phases in which the database's rows live on the reshard's new shards, not on the ones the state is kept on. */
export const movedPhases: readonly Phase[] = ['switched', 'reverse', 'finished', 'left'];

/**
 * At a REVERT, before statements resume on the old shards: the new first primary says the rows left it, so a
 * proxy started later on the new shards' config refuses the database (its reads would miss, its writes split
 * from, what the old shards take from now on). A new reshard onto those shards forgets it (forgetIfKept).
 */
export function recordLeft(newFirstPrimary: ServerLogin, database: string): Promise<void> {
  return new StateStore(newFirstPrimary, database).write('left');
}

/** A REVERT that failed after recordLeft: the new shards serve on, so the mark goes. */
export function forgetLeft(newFirstPrimary: ServerLogin, database: string): Promise<void> {
  return new StateStore(newFirstPrimary, database).forgetIfKept();
}
