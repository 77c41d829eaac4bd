// The plugins of one proxy: what they claim, their hooks, and calls into them that never let a plugin error escape.
import type { Logger } from '../logger.js';
import type { StatementObjects } from '../router/statement-objects.js';
import type {
  BeforeStatementHook,
  Claim,
  CommitHook,
  CommittedWrite,
  EncodedResult,
  Statement,
  StatementHandler,
} from './api.js';

export interface ClaimedBy {
  readonly plugin: string;
  readonly handler: StatementHandler;
}

/** A statement that names what one plugin claims beside something it does not: it cannot run anywhere. */
export interface MixedClaim {
  readonly mixed: string;
}

interface Registered<T> {
  readonly plugin: string;
  readonly hook: T;
}

interface NormalizedClaim {
  readonly plugin: string;
  readonly handler: StatementHandler;
  readonly schemas: ReadonlySet<string>;
  readonly tables: ReadonlySet<string>;
  readonly functions: ReadonlySet<string>;
}

/** What the beforeStatement hooks decided for one statement. */
export interface BeforeOutcome {
  answer?: EncodedResult;
  captures: ((result: EncodedResult) => void)[];
}

/** Records each call into a plugin (for metrics): hook is execute, describe, beforeStatement, onCommit, start or stop. */
export type PluginCallRecorder = (plugin: string, hook: string, seconds: number, failed: boolean) => void;

const seconds = (since: bigint) => Number(process.hrtime.bigint() - since) / 1e9;

const lower = (names: readonly string[] | undefined) => new Set((names ?? []).map((n) => n.toLowerCase()));

export class PluginHost {
  readonly names: string[] = [];
  private readonly claims: NormalizedClaim[] = [];
  private readonly before: Registered<BeforeStatementHook>[] = [];
  private readonly commits: Registered<CommitHook>[] = [];
  private readonly starts: Registered<() => void | Promise<void>>[] = [];
  private readonly stops: Registered<() => void | Promise<void>>[] = [];
  /** Claims by the classifier's shared objects: one lookup per statement shape. */
  private readonly claimMemo = new WeakMap<StatementObjects, ClaimedBy | MixedClaim | null>();

  constructor(
    private readonly log: Logger,
    private readonly record: PluginCallRecorder = () => {},
  ) {}

  get hasClaims(): boolean {
    return this.claims.length > 0;
  }

  get hasBeforeHooks(): boolean {
    return this.before.length > 0;
  }

  get hasCommitHooks(): boolean {
    return this.commits.length > 0;
  }

  addClaim(plugin: string, claim: Claim, handler: StatementHandler): void {
    this.claims.push({
      plugin,
      handler,
      schemas: lower(claim.schemas),
      tables: lower(claim.tables),
      functions: lower(claim.functions),
    });
  }

  addBefore(plugin: string, hook: BeforeStatementHook): void {
    this.before.push({ plugin, hook });
  }

  addCommit(plugin: string, hook: CommitHook): void {
    this.commits.push({ plugin, hook });
  }

  addStart(plugin: string, hook: () => void | Promise<void>): void {
    this.starts.push({ plugin, hook });
  }

  addStop(plugin: string, hook: () => void | Promise<void>): void {
    this.stops.push({ plugin, hook });
  }

  addName(name: string): void {
    this.names.push(name);
  }

  /** Which plugin answers a statement that touches these objects: null for PostgreSQL. */
  claimFor(objects: StatementObjects | undefined): ClaimedBy | MixedClaim | null {
    if (!objects || this.claims.length === 0) return null;
    const memo = this.claimMemo.get(objects);
    if (memo !== undefined) return memo;
    const found = this.findClaim(objects);
    this.claimMemo.set(objects, found);
    return found;
  }

  private findClaim(objects: StatementObjects): ClaimedBy | MixedClaim | null {
    let owner: NormalizedClaim | null = null;
    const claimed: string[] = [];
    const unclaimed: string[] = [];
    const see = (name: string, claim: NormalizedClaim | undefined) => {
      if (!claim) return unclaimed.push(name);
      claimed.push(name);
      if (owner && owner !== claim && owner.plugin !== claim.plugin) unclaimed.push(name);
      owner ??= claim;
    };
    for (const table of objects.tables)
      see(
        table,
        this.claims.find((c) => claimsTable(c, table)),
      );
    for (const fn of objects.functions) {
      const claim = this.claims.find((c) => claimsFunction(c, fn));
      if (claim) see(fn, claim);
    }
    if (!owner) return null;
    const by: NormalizedClaim = owner;
    if (unclaimed.length > 0) {
      return {
        mixed:
          `the statement combines ${claimed.join(', ')} (plugin "${by.plugin}") with ${unclaimed.join(', ')}, ` +
          'which live elsewhere; query each store in a statement of its own',
      };
    }
    return { plugin: by.plugin, handler: by.handler };
  }

  /** Runs the beforeStatement hooks in order; the first answer wins. Failures only skip that plugin. */
  async runBefore(stmt: Statement): Promise<BeforeOutcome> {
    const outcome: BeforeOutcome = { captures: [] };
    for (const { plugin, hook } of this.before) {
      const started = process.hrtime.bigint();
      try {
        const decision = await hook(stmt);
        this.record(plugin, 'beforeStatement', seconds(started), false);
        if (!decision) continue;
        if ('answer' in decision) {
          outcome.answer = decision.answer;
          return outcome;
        }
        outcome.captures.push(decision.capture);
      } catch (err) {
        this.failed(plugin, 'beforeStatement', err, started);
      }
    }
    return outcome;
  }

  /** Hands a result to the plugins that asked for it. */
  deliver(captures: readonly ((result: EncodedResult) => void)[], result: EncodedResult): void {
    for (const capture of captures) {
      try {
        capture(result);
      } catch (err) {
        this.log.warn('plugin failed to take a result', { err: messageOf(err) });
      }
    }
  }

  /** Tells every plugin about a committed write; waits for all, never throws. */
  async runCommit(write: CommittedWrite): Promise<void> {
    await Promise.all(
      this.commits.map(async ({ plugin, hook }) => {
        const started = process.hrtime.bigint();
        try {
          await hook(write);
          this.record(plugin, 'onCommit', seconds(started), false);
        } catch (err) {
          this.failed(plugin, 'onCommit', err, started);
        }
      }),
    );
  }

  /** Records a claimed statement's call; the caller answers the client when it failed. */
  recordClaim(
    plugin: string,
    hook: 'describe' | 'execute' | 'explain',
    started: bigint,
    failed: boolean,
  ): void {
    this.record(plugin, hook, seconds(started), failed);
  }

  async start(): Promise<void> {
    for (const { plugin, hook } of this.starts) {
      const started = process.hrtime.bigint();
      try {
        await hook();
        this.record(plugin, 'start', seconds(started), false);
      } catch (err) {
        this.record(plugin, 'start', seconds(started), true);
        throw new Error(`plugin "${plugin}" failed to start: ${messageOf(err)}`, { cause: err });
      }
    }
  }

  async stop(): Promise<void> {
    for (const { plugin, hook } of [...this.stops].reverse()) {
      const started = process.hrtime.bigint();
      try {
        await hook();
        this.record(plugin, 'stop', seconds(started), false);
      } catch (err) {
        this.failed(plugin, 'stop', err, started);
      }
    }
  }

  private failed(plugin: string, hook: string, err: unknown, started: bigint): void {
    this.record(plugin, hook, seconds(started), true);
    this.log.warn('plugin hook failed', { plugin, hook, err: messageOf(err) });
  }
}

function claimsTable(claim: NormalizedClaim, table: string): boolean {
  if (claim.tables.has(table)) return true;
  const dot = table.indexOf('.');
  return dot > 0 && claim.schemas.has(table.slice(0, dot));
}

function claimsFunction(claim: NormalizedClaim, fn: string): boolean {
  return claim.functions.has(fn) || claim.functions.has(fn.slice(fn.lastIndexOf('.') + 1));
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
