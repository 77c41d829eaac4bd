// COPY FROM STDIN on a sharded database: rows split by shard key (or copied to every shard) as they stream in.
import { Backend, Frontend } from '../protocol/codes.js';
import * as fe from '../protocol/frontend-messages.js';
import { MessageWriter } from '../protocol/writer.js';
import type { Node } from '../router/sharding/ast-values.js';
import type { ShardRoute } from '../router/sharding/shard-route.js';
import { CopyRowSplitter, copyFormatOf } from '../engine/copy-split.js';
import type { BackendMessage, Round } from '../backend/shard-channel.js';
import type { Outcome, StatementRunner } from './statement-runner.js';
import { StatementError } from '../backend/statement-error.js';
import { encodeMessage } from '../backend/shard-wire.js';

/** The client side of the copy: its next message, and a way to send it CopyInResponse. */
export interface CopyClient {
  next(): Promise<{ type: number; body: Buffer }>;
  send(b: Buffer): void;
}

const copyData = (parts: Buffer[]) => {
  const body = Buffer.concat(parts);
  const out = Buffer.allocUnsafe(5 + body.length);
  out[0] = Frontend.CopyData;
  out.writeInt32BE(4 + body.length, 1);
  body.copy(out, 5);
  return out;
};
const copyDone = Buffer.from([Frontend.CopyDone, 0, 0, 0, 4]);
const copyFail = (why: string) => new MessageWriter(Frontend.CopyFail).cstring(why).finish();

function errorOf(round: Round): StatementError | null {
  const e = round.messages.find((m) => m.type === Backend.ErrorResponse);
  return e ? new StatementError(e.body) : null;
}

export function runCopyIn(
  runner: StatementRunner,
  sql: string,
  route: Extract<ShardRoute, { kind: 'copy-in' }>,
  copy: Node,
  client: CopyClient,
): Promise<Outcome> {
  const splitter = new CopyRowSplitter(copyFormatOf(copy), route.keyIndex);
  return runner.onShards(route.shards, true, true, async (chs) => {
    const starts = chs.map((c) => {
      let started!: (m: BackendMessage | null) => void;
      const start = new Promise<BackendMessage | null>((r) => (started = r));
      const done = c.round([fe.query(sql)], (m) => {
        if (m.type === Backend.CopyInResponse) started(m);
      });
      done.then(
        () => started(null),
        () => started(null),
      );
      return { c, start, done };
    });
    const responses = await Promise.all(starts.map((s) => s.start));
    if (responses.some((r) => r === null)) {
      starts.forEach((s, i) => responses[i] && s.c.write(copyFail('COPY failed on another shard')));
      const rounds = await Promise.all(starts.map((s) => s.done));
      throw rounds.map(errorOf).find((e) => e) ?? StatementError.of('08006', 'COPY failed on a shard');
    }
    client.send(encodeMessage(responses[0]!));
    const index = new Map(chs.map((c, i) => [c.shard, i]));
    let failure: string | null = null;
    const place = (batches: Buffer[][], bytes: Buffer, key: string | null, header: boolean) => {
      if (header || route.keyIndex < 0 || !route.placement) {
        for (const b of batches) b.push(bytes);
        return;
      }
      let shard: number | null;
      try {
        shard = route.placement.shardOf(key, route.keyType ?? 'int');
      } catch (err) {
        shard = null;
        failure ??= (err as Error).message;
      }
      if (shard === null) failure ??= `no shard holds key ${key} of "${route.placement.table}"`;
      else batches[index.get(shard)!].push(bytes);
    };
    for (;;) {
      const m = await client.next();
      const batches: Buffer[][] = chs.map(() => []);
      if (m.type === Frontend.CopyData) {
        splitter.feed(m.body, (bytes, key, header) => place(batches, bytes, key, header));
      } else if (m.type === Frontend.CopyDone) {
        splitter.finish((bytes, key, header) => place(batches, bytes, key, header));
      } else if (m.type !== Frontend.CopyFail) continue;
      batches.forEach((b, i) => b.length > 0 && chs[i].write(copyData(b)));
      if (failure) {
        for (const c of chs) c.write(copyFail(failure));
        await Promise.allSettled(starts.map((s) => s.done));
        throw StatementError.of('22023', `COPY stopped: ${failure}`);
      }
      if (m.type === Frontend.CopyFail) {
        const why = m.body.toString('utf8', 0, Math.max(0, m.body.length - 1));
        for (const c of chs) c.write(copyFail(why));
        await Promise.allSettled(starts.map((s) => s.done));
        throw StatementError.of('57014', `COPY from stdin failed: ${why}`);
      }
      if (m.type === Frontend.CopyDone) break;
    }
    for (const c of chs) c.write(copyDone);
    const rounds = await Promise.all(starts.map((s) => s.done));
    const error = rounds.map(errorOf).find((e) => e);
    if (error) throw error;
    const count = rounds.reduce((n, r) => {
      const tag = r.messages.find((m) => m.type === Backend.CommandComplete);
      return n + Number(/(\d+)/.exec(tag?.body.toString() ?? '')?.[1] ?? 0);
    }, 0);
    // A reference table holds every row on every shard: report the rows copied once.
    const rows = route.keyIndex < 0 ? Math.round(count / chs.length) : count;
    return { columns: null, rows: [], tag: `COPY ${rows}` };
  });
}
