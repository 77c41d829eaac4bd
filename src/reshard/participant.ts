// One proxy instance's part in cutovers run by other instances: a heartbeat on the first old primary, the
// cutover's steps heard with LISTEN (pause, drain and acknowledge; switch; abort), and a refusal of the
// database's statements when the heartbeat has failed for heartbeat_timeout, since a cutover may run without it.
// The heartbeat and LISTEN stay on the reshard's coordination server (the old first primary) from the switch
// until FINISH or REVERT, whatever shards the database serves from meanwhile.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { prepareShards, switchShards, type PreparedShards } from '../backend/cluster-switch.js';
import type { Database } from '../backend/database.js';
import { gateOf } from '../backend/reshard-gate.js';
import { StatementError } from '../backend/statement-error.js';
import type { Logger } from '../logger.js';
import { clientConfig, type ServerLogin } from '../streams/stream-lock.js';
import { drained } from './cutover.js';
import { acknowledge, channel, ensureInstances, heartbeat, type CutoverStep } from './instances.js';
import { primariesOf } from './logins.js';
import { readOrigin } from './origin.js';
import { movedPhases, StateStore } from './state.js';

/** This process's instance name, as heartbeats record it. */
export const instanceName = `${process.pid}-${randomBytes(3).toString('hex')}`;

export class Participant {
  readonly instance = `${instanceName}-${randomBytes(2).toString('hex')}`;
  private client: pg.Client | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** When the last heartbeat was recorded; 0 before the first. */
  private lastBeat = 0;
  private refusing = false;
  /** The reshard state says the rows live on other shards than this instance's config names. */
  private moved = false;
  private prepared: PreparedShards | null = null;
  private stopped = false;
  /** Where the heartbeat and LISTEN connection goes (see coordinationServer). */
  private coordination: ServerLogin | null = null;

  constructor(
    readonly db: Database,
    private readonly log: Logger,
  ) {}

  private get timeoutMs(): number {
    return this.db.config.reshard?.heartbeat_timeout ?? 10_000;
  }

  /** Registers before clients connect (a few tries); an instance that cannot register refuses statements. */
  async start(): Promise<void> {
    for (let i = 0; i < 5 && !(await this.beat()); i++) await new Promise((r) => setTimeout(r, 100));
    if (this.lastBeat === 0) this.refuse('could not register its heartbeat');
    await this.refuseIfMoved();
    this.timer = setInterval(() => void this.beat(), Math.max(100, this.timeoutMs / 4));
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    // A closed instance is no longer a peer: a cutover started right after need not wait for it to time out.
    await this.client
      ?.query('DELETE FROM polyproxy_reshard_instances WHERE database = $1 AND instance = $2', [
        this.db.name,
        this.instance,
      ])
      .catch(() => {});
    await this.client?.end().catch(() => {});
  }

  /**
   * The database's first primary, or while a switched reshard keeps its origin there (until FINISH or REVERT)
   * the old first primary the reshard's cutovers are coordinated on: an instance that reconnects after the
   * switch must still hear a REVERT.
   */
  private async coordinationServer(): Promise<ServerLogin> {
    const first = primariesOf(this.db.config)[0]!;
    const client = this.client;
    const same = client && this.coordination && sameServer(first, this.coordination);
    const origin = await readOrigin(first, this.db.name, same ? (_, work) => work(client) : undefined);
    return origin ? primariesOf({ ...this.db.config, shards: origin.shards })[0]! : first;
  }

  private async connect(): Promise<pg.Client> {
    const client = new pg.Client({
      ...clientConfig(this.coordination!),
      application_name: 'polyproxy reshard',
    });
    client.on('error', () => (this.client = null));
    client.on('notification', (n) => {
      if (n.channel === channel && n.payload) void this.onStep(JSON.parse(n.payload) as CutoverStep);
    });
    await client.connect();
    await ensureInstances(client);
    await client.query(`LISTEN ${channel}`);
    return client;
  }

  /** Records a heartbeat; true when it was recorded. */
  private async beat(): Promise<boolean> {
    if (this.stopped) return false;
    try {
      const wanted = await this.coordinationServer();
      if (this.coordination && !sameServer(wanted, this.coordination)) {
        await this.client?.end().catch(() => {});
        this.client = null;
      }
      this.coordination = wanted;
      this.client ??= await this.connect();
      await heartbeat(this.client, this.db.name, this.instance);
      this.lastBeat = Date.now();
      if (this.refusing && !this.moved) {
        this.refusing = false;
        this.log.warn(
          'reshard heartbeat back: check the config names the shards this database now lives on',
          {
            database: this.db.name,
          },
        );
        gateOf(this.db.cluster).open();
      }
      return true;
    } catch (error) {
      await this.client?.end().catch(() => {});
      this.client = null;
      if (this.lastBeat > 0 && Date.now() - this.lastBeat >= this.timeoutMs) this.refuse(String(error));
      return false;
    }
  }

  /**
   * Started on shards a reshard moved the rows away from (the state on their first primary says switched or
   * finished, or `left` after a REVERT back from them): its reads would miss, and its writes lose, what the
   * shards serving now took since. Refused for good.
   */
  private async refuseIfMoved(): Promise<void> {
    const state = await new StateStore(primariesOf(this.db.config)[0]!, this.db.name)
      .read()
      .catch(() => null);
    if (!state || !movedPhases.includes(state.phase)) return;
    this.moved = this.refusing = true;
    this.log.error('database was resharded away from the shards this config names: refusing statements', {
      database: this.db.name,
      phase: state.phase,
    });
    const reverted = state.phase === 'left';
    gateOf(this.db.cluster).refuse(
      reverted
        ? StatementError.of(
            'reshardRefused',
            `database "${this.db.name}" was resharded to the shards this proxy's config names, then reverted: its rows are back on the old shards`,
            'start this instance with the config of the old shards',
          )
        : StatementError.of(
            'reshardRefused',
            `database "${this.db.name}" was resharded (${state.phase}) to other shards than this proxy's config names`,
            'start this instance with the config of the new shards (the switching proxy logged it), or RESHARD ... REVERT on the proxy that switched',
          ),
    );
  }

  /** A cutover may run without this instance: it must not write to the old shards meanwhile. */
  private refuse(why: string): void {
    if (this.refusing) return;
    this.refusing = true;
    this.log.warn('reshard heartbeat lost: refusing statements', { database: this.db.name, err: why });
    gateOf(this.db.cluster).refuse(
      StatementError.of(
        'reshardRefused',
        `proxy instance lost touch with the reshard state of database "${this.db.name}"`,
        'connect through another proxy instance',
      ),
    );
  }

  private async onStep(step: CutoverStep): Promise<void> {
    if (step.database !== this.db.name || step.from === this.instance) return;
    const gate = gateOf(this.db.cluster);
    try {
      if (step.step === 'pause') {
        gate.close();
        const next = { ...this.db.config, shards: [...step.shards!], sharding: step.sharding! };
        this.prepared = await prepareShards(this.db, next, this.log);
        await drained(this.db, step.deadline!);
        this.awaitStep(step);
        if (this.client)
          await acknowledge(this.client, this.db.name, this.instance, `paused ${step.cutover}`);
      } else if (step.step === 'switch' && this.prepared) {
        const old = switchShards(this.db, this.prepared);
        this.prepared = null;
        gate.open();
        void Promise.all(old.map((shard) => shard.close())).catch(() => {});
      } else if (step.step === 'abort') await this.abandon(step.cutover);
    } catch (error) {
      this.log.warn('reshard cutover step failed', {
        database: this.db.name,
        step: step.step,
        err: String(error),
      });
      await this.abandon(step.cutover);
    }
  }

  /**
   * A switch or abort that never arrives (a lost notification, the other instance stopped): once the pause
   * is long over, the cutover the state records as switched decides.
   */
  private awaitStep(step: CutoverStep): void {
    const timer = setTimeout(
      async () => {
        if (!this.prepared || this.prepared !== prepared) return;
        // A switched cutover records its id (the forward one and a REVERT alike).
        const state = await this.client
          ?.query<{ cutover: string | null }>(
            "SELECT detail->>'cutover' AS cutover FROM polyproxy_reshard WHERE database = $1",
            [this.db.name],
          )
          .catch(() => null);
        if (state?.rows[0]?.cutover === step.cutover) await this.onStep({ ...step, step: 'switch' });
        else await this.abandon(step.cutover);
      },
      step.deadline! - Date.now() + this.timeoutMs,
    );
    const prepared = this.prepared;
    timer.unref();
  }

  private async abandon(cutover: string): Promise<void> {
    gateOf(this.db.cluster).fail(
      StatementError.of(
        'reshardPauseTimeout',
        `the reshard cutover ${cutover} of database "${this.db.name}" was abandoned`,
      ),
    );
    await Promise.all((this.prepared?.shards ?? []).map((shard) => shard.close()));
    this.prepared = null;
  }
}

const sameServer = (a: ServerLogin, b: ServerLogin) =>
  a.host === b.host && a.port === b.port && a.database === b.database;

/** A participant for every database that has a `reshard` section (one shard too: 1 -> N); started before clients connect. */
const byDatabase = new WeakMap<Database, Participant>();

/** The instance name this process's participant for `db` heartbeats under, if it has one. */
export const participantOf = (db: Database): Participant | undefined => byDatabase.get(db);

export async function startParticipants(databases: Iterable<Database>, log: Logger): Promise<Participant[]> {
  const list = [...databases]
    .filter((db) => db.config.reshard)
    .map((db) => {
      const participant = new Participant(db, log);
      byDatabase.set(db, participant);
      return participant;
    });
  await Promise.all(
    list.map((p) =>
      p.start().catch((error: Error) => log.warn('reshard heartbeat failed', { err: error.message })),
    ),
  );
  return list;
}

/** After a reload: the participants of databases gone or replaced stop, the new databases get theirs. */
export async function renewParticipants(
  list: readonly Participant[],
  databases: Iterable<Database>,
  log: Logger,
): Promise<Participant[]> {
  const live = new Set(databases);
  await Promise.all(list.filter((p) => !live.has(p.db)).map((p) => p.stop()));
  const kept = list.filter((p) => live.has(p.db));
  const covered = new Set(kept.map((p) => p.db));
  return [
    ...kept,
    ...(await startParticipants(
      [...live].filter((db) => !covered.has(db)),
      log,
    )),
  ];
}
