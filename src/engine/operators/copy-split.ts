// CopySplit: COPY FROM STDIN rows split by shard key (or copied to every shard) as they stream in.
import type { BackendMessage, Round, ShardChannel } from '../../backend/shard-channel.js';
import { encodeMessage } from '../../backend/shard-wire.js';
import { StatementError } from '../../backend/statement-error.js';
import { ProxyError, type ErrorCode } from '../../errors.js';
import { Backend, Frontend } from '../../protocol/codes.js';
import * as fe from '../../protocol/frontend-messages.js';
import { MessageWriter } from '../../protocol/writer.js';
import type { Node } from '../../router/sharding/ast-values.js';
import type { HashKeyType } from '../../router/sharding/pg-hash.js';
import type { TablePlacement } from '../../router/sharding/shard-map.js';
import { CopyBatch } from '../copy-batch.js';
import { CopyRowSplitter, copyFormatOf, type RowSink } from '../copy-split.js';
import { shardList } from '../outcome.js';
import {
  statementOf,
  type CopyClient,
  type ExecContext,
  type Outcome,
  type PlanNode,
  type StatementPlan,
} from '../types.js';

const copyDone = Buffer.from([Frontend.CopyDone, 0, 0, 0, 4]);
const copyFail = (why: string) => new MessageWriter(Frontend.CopyFail).cstring(why).finish();

function errorOf(round: Round): StatementError | null {
  const e = round.messages.find((m) => m.type === Backend.ErrorResponse);
  return e ? new StatementError(e.body) : null;
}

/** One shard's COPY: its CopyInResponse (null when it failed to start) and its whole round. */
interface ShardCopy {
  c: ShardChannel;
  start: Promise<BackendMessage | null>;
  done: Promise<Round>;
}

export class CopySplit implements StatementPlan {
  readonly children: PlanNode[] = [];

  constructor(
    readonly shards: number[],
    /** The key's field in each row (0-based); -1 copies every row to every shard (a reference table). */
    readonly keyIndex: number,
    readonly reason: string,
    readonly sql: string,
    readonly copy: Node,
    readonly placement?: TablePlacement,
    readonly keyType?: HashKeyType,
  ) {}

  describe(): string {
    const rows = this.keyIndex >= 0 ? `key-column=${this.keyIndex + 1}` : 'every-row-to-every-shard';
    return `CopySplit shards=${shardList(this.shards)} ${rows} reason=${this.reason}`;
  }

  execute(ctx: ExecContext): Promise<Outcome> {
    const st = statementOf(ctx);
    const client = st.copy;
    if (!client) {
      throw StatementError.unsupported(
        'COPY FROM STDIN on a sharded database needs the simple query protocol',
      );
    }
    // Binary rows are not cut at newlines: refused rather than split as if they were text.
    if (copyFormatOf(this.copy).binary)
      throw StatementError.unsupported(
        'COPY FROM STDIN in binary format is not supported on a sharded table',
        'use FORMAT text or FORMAT csv',
      );
    return st.onShards(this.shards, { atomic: true, write: true }, async (chs) => {
      const copies = chs.map((c) => this.start(c));
      const responses = await Promise.all(copies.map((s) => s.start));
      if (responses.some((r) => r === null)) {
        copies.forEach((s, i) => responses[i] && s.c.write(copyFail('COPY failed on another shard')));
        const rounds = await Promise.all(copies.map((s) => s.done));
        throw (
          rounds.map(errorOf).find((e) => e) ??
          StatementError.of('connectionFailure', 'COPY failed on a shard')
        );
      }
      client.send(encodeMessage(responses[0]!));
      await this.stream(client, chs, copies);
      for (const c of chs) c.write(copyDone);
      const rounds = await Promise.all(copies.map((s) => s.done));
      const error = rounds.map(errorOf).find((e) => e);
      if (error) throw error;
      const count = rounds.reduce((n, r) => {
        const tag = r.messages.find((m) => m.type === Backend.CommandComplete);
        return n + Number(/(\d+)/.exec(tag?.body.toString() ?? '')?.[1] ?? 0);
      }, 0);
      // A reference table holds every row on every shard: report the rows copied once.
      const rows = this.keyIndex < 0 ? Math.round(count / chs.length) : count;
      return { columns: null, rows: [], tag: `COPY ${rows}` };
    });
  }

  private start(c: ShardChannel): ShardCopy {
    let started!: (m: BackendMessage | null) => void;
    const start = new Promise<BackendMessage | null>((r) => (started = r));
    const done = c.round([fe.query(this.sql)], (m) => {
      if (m.type === Backend.CopyInResponse) started(m);
    });
    done.then(
      () => started(null),
      () => started(null),
    );
    return { c, start, done };
  }

  /** The client's CopyData, split into per-shard batches, until its CopyDone (or an error: then thrown). */
  private async stream(client: CopyClient, chs: ShardChannel[], copies: ShardCopy[]): Promise<void> {
    const splitter = new CopyRowSplitter(copyFormatOf(this.copy, this.placement?.column), this.keyIndex);
    const index = new Map(chs.map((c, i) => [c.shard, i]));
    let failure: string | null = null;
    let failureCode: ErrorCode = 'invalidParameterValue';
    const place = (
      batches: CopyBatch[],
      chunk: Buffer,
      start: number,
      end: number,
      key: string | null,
      header: boolean,
    ) => {
      if (header || this.keyIndex < 0 || !this.placement) {
        for (const b of batches) b.push(chunk, start, end);
        return;
      }
      const shard = this.shardOf(key);
      if (typeof shard === 'string') failure ??= shard;
      else batches[index.get(shard)!].push(chunk, start, end);
    };
    const stopAll = async (why: string) => {
      for (const c of chs) c.write(copyFail(why));
      await Promise.allSettled(copies.map((s) => s.done));
    };
    for (;;) {
      const m = await client.next();
      const batches = chs.map(() => new CopyBatch());
      const sink: RowSink = (chunk, start, end, key, header) =>
        place(batches, chunk, start, end, key, header);
      try {
        if (m.type === Frontend.CopyData) splitter.feed(m.body, sink);
        else if (m.type === Frontend.CopyDone) splitter.finish(sink);
        else if (m.type !== Frontend.CopyFail) continue;
      } catch (err) {
        // Data PostgreSQL would refuse (22P04): every shard's COPY is failed, as one server's would be.
        if (!(err instanceof ProxyError)) throw err;
        failure ??= err.message;
        failureCode = err.code;
      }
      batches.forEach((b, i) => !b.empty && chs[i].write(b.message()));
      if (failure) {
        await stopAll(failure);
        throw StatementError.of(failureCode, `COPY stopped: ${failure}`);
      }
      if (m.type === Frontend.CopyFail) {
        const why = m.body.toString('utf8', 0, Math.max(0, m.body.length - 1));
        await stopAll(why);
        throw StatementError.of('queryCanceled', `COPY from stdin failed: ${why}`);
      }
      if (m.type === Frontend.CopyDone) return;
    }
  }

  /** The shard of a row's key, or why there is none. */
  private shardOf(key: string | null): number | string {
    const placement = this.placement!;
    try {
      return (
        placement.shardOf(key, this.keyType ?? 'int') ?? `no shard holds key ${key} of "${placement.table}"`
      );
    } catch (err) {
      return (err as Error).message;
    }
  }
}
