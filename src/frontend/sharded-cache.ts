// The result cache on a sharded database: a cacheable read answered by a plugin or its reply captured for it,
// and the tables a client wrote reported to the commit hooks before the client hears of the commit.
import type { EncodedResult, SessionView } from '../plugins/api.js';
import type { PluginHost } from '../plugins/host.js';
import { TxStatus } from '../protocol/codes.js';
import type { StatementInfo } from '../router/classify.js';
import {
  answerRound,
  answersRound,
  cacheableStatement,
  type RoundMessage,
  type StatementLookup,
} from './cache-round.js';
import { ReplyCapture } from './reply-capture.js';

export class ShardedCache {
  /** Tables written since the session was last idle; reported once it is idle again. */
  private written: Set<string> | null = null;
  private capture: { reply: ReplyCapture; captures: ((r: EncodedResult) => void)[] } | null = null;

  constructor(
    private readonly host: PluginHost,
    private readonly database: string,
  ) {}

  /** A host with hooks that must see every read and hold every write's acknowledgement, or null. */
  static of(host: PluginHost | null, database: string): ShardedCache | null {
    return host && (host.hasBeforeHooks || host.hasCommitHooks) ? new ShardedCache(host, database) : null;
  }

  /** Plugins look at reads before they run (outside transaction blocks). */
  get looksUp(): boolean {
    return this.host.hasBeforeHooks;
  }

  /**
   * Asks the plugins for the round's answer: its replies, ReadyForQuery included, or null when the round must
   * run (its reply is then captured for them, when one asked, until finish()).
   */
  async answer(
    round: readonly RoundMessage[],
    statements: StatementLookup,
    unnamed: { sql: string; paramTypes: number[] } | null,
    session: SessionView,
  ): Promise<Buffer | null> {
    const stmt = cacheableStatement(round, statements, unnamed, session);
    if (!stmt) return null;
    const outcome = await this.host.runBefore(stmt);
    if (outcome.answer)
      return answersRound(round, outcome.answer) ? answerRound(round, outcome.answer) : null;
    if (outcome.captures.length > 0) this.capture = { reply: new ReplyCapture(), captures: outcome.captures };
    return null;
  }

  /** Whether a reply is being captured: it must then pass through the session, not straight from a shard. */
  get capturing(): boolean {
    return this.capture !== null;
  }

  /** Bytes on their way to the client. */
  sent(chunk: Buffer): void {
    this.capture?.reply.feed(chunk);
  }

  /** The round ended: a captured reply goes to the plugins that asked for it. */
  roundDone(): void {
    const capture = this.capture;
    if (!capture) return;
    this.capture = null;
    const result = capture.reply.result();
    if (result) this.host.deliver(capture.captures, result);
  }

  /** A statement ran: the tables of a write are remembered (every table, `*`, when they are not known). */
  ran(info: StatementInfo | null): void {
    if (!this.host.hasCommitHooks || info?.access !== 'write') return;
    const written = (this.written ??= new Set());
    for (const table of info.objects?.writes ?? ['*']) written.add(table);
  }

  /**
   * Before ReadyForQuery: once the session is idle again, its writes (committed or rolled back, telling both
   * costs only a needless invalidation) go to the commit hooks, which a client acknowledged next can count on.
   */
  async settled(txStatus: number): Promise<void> {
    if (txStatus !== TxStatus.Idle || !this.written) return;
    const tables = [...this.written];
    this.written = null;
    await this.host.runCommit({ database: this.database, tables });
  }
}
