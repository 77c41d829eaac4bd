// Statement operators (SingleShard, DistributedWrite, SplitInsert, Broadcast, Gather) over scripted shard
// connections: which shards they take and how, what each shard is sent, and the tag or error the client gets.
import { describe, expect, it } from 'vitest';
import { ServerSessionState } from '../../../src/backend/server-session-state.js';
import type { ShardChannel } from '../../../src/backend/shard-channel.js';
import { noBound } from '../../../src/backend/shard-wire.js';
import { StatementError } from '../../../src/backend/statement-error.js';
import { Broadcast } from '../../../src/engine/operators/broadcast.js';
import { DistributedWrite } from '../../../src/engine/operators/distributed-write.js';
import { Gather } from '../../../src/engine/operators/gather.js';
import { Route } from '../../../src/engine/operators/route.js';
import { ShardStatement } from '../../../src/engine/operators/shard-statement.js';
import { SingleShard } from '../../../src/engine/operators/single-shard.js';
import { SplitInsert } from '../../../src/engine/operators/split-insert.js';
import type { ExecContext, ShardUse } from '../../../src/engine/types.js';
import * as be from '../../../src/protocol/backend-messages.js';

/** What a shard answers to any statement: its backend messages, or an error. */
type Script = (shard: number) => Buffer[];

const done = (tag: string): Buffer[] => [be.commandComplete(tag)];
const failed = (sqlstate: string, message: string): Buffer[] => [
  be.errorResponse({ severity: 'ERROR', sqlstate, message }),
];

interface Session {
  ctx: ExecContext;
  /** Each onShards call: its shards and how they were taken. */
  takes: { shards: number[]; use: ShardUse }[];
  /** The text each shard's connection was sent, in order. */
  sent: Map<number, string[]>;
  sessions: Map<number, ServerSessionState>;
  catalogChanges: number;
}

function session(script: Script, opts: { inBlock?: boolean; formats?: number[] } = {}): Session {
  const s: Session = {
    takes: [],
    sent: new Map(),
    sessions: new Map(),
    catalogChanges: 0,
    ctx: undefined as unknown as ExecContext,
  };
  const channel = (shard: number): ShardChannel => {
    let session = s.sessions.get(shard);
    if (!session) {
      session = new ServerSessionState();
      session.statementPrepared('pp_s1');
      s.sessions.set(shard, session);
    }
    return {
      shard,
      conn: { session },
      async round(messages: Buffer[]) {
        const text = Buffer.concat(messages).toString('latin1');
        s.sent.set(shard, [...(s.sent.get(shard) ?? []), text]);
        return { messages: script(shard).map((b) => ({ type: b[0], body: b.subarray(5) })) };
      },
    } as unknown as ShardChannel;
  };
  s.ctx = {
    runOnShards: () => Promise.reject(new Error('not used')),
    statement: {
      sql: '',
      bound: noBound,
      formats: opts.formats ?? [],
      inBlock: opts.inBlock ?? false,
      copy: null,
      async onShards(shards, use, fn) {
        s.takes.push({ shards, use });
        return fn(shards.map(channel));
      },
      onEach: (chs, f) => Promise.all(chs.map((c, i) => f(c, i))),
      catalogChanged: () => void s.catalogChanges++,
    },
  };
  return s;
}

describe('statement operators', () => {
  it('SingleShard runs the statement on its shard, on a primary when it writes', async () => {
    const s = session(() => done('INSERT 0 1'));
    const op = new SingleShard(2, true, 'shard-key', "INSERT INTO t VALUES (1, 'a')");
    expect(await op.execute(s.ctx)).toEqual({ columns: null, rows: [], tag: 'INSERT 0 1' });
    expect(s.takes).toEqual([{ shards: [2], use: { atomic: false, write: true } }]);
    expect(s.sent.get(2)?.[0]).toContain("INSERT INTO t VALUES (1, 'a')");
    expect(s.sessions.get(2)?.preparedCount).toBe(1);
  });

  it('SingleShard of DEALLOCATE ALL forgets what the proxy prepared on that connection', async () => {
    const s = session(() => done('DEALLOCATE ALL'));
    await new SingleShard(0, false, 'default-shard', 'DEALLOCATE ALL', true).execute(s.ctx);
    expect(s.sessions.get(0)?.preparedCount).toBe(0);
  });

  it('DistributedWrite sums row counts, or reports one shard for a reference table', async () => {
    const sum = session((shard) => done(`UPDATE ${shard + 1}`));
    const all = await new DistributedWrite([0, 1, 2], 'sum', 'no-shard-key', 'UPDATE t SET a = 1').execute(
      sum.ctx,
    );
    expect(all.tag).toBe('UPDATE 6');
    expect(sum.takes).toEqual([{ shards: [0, 1, 2], use: { atomic: true, write: true } }]);
    expect([...sum.sent.keys()].sort()).toEqual([0, 1, 2]);
    const first = session(() => done('INSERT 0 1'));
    const ref = await new DistributedWrite([0, 1, 2], 'first', 'reference-table', 'INSERT INTO c VALUES (1)');
    expect((await ref.execute(first.ctx)).tag).toBe('INSERT 0 1');
  });

  it('SplitInsert sends each shard its own rows and sums the counts', async () => {
    const s = session((shard) => done(`INSERT 0 ${shard === 0 ? 2 : 1}`));
    const op = new SplitInsert(
      [
        new ShardStatement(0, 'INSERT INTO t VALUES (2), (4)'),
        new ShardStatement(2, 'INSERT INTO t VALUES (1)'),
      ],
      'rows-by-shard-key',
    );
    expect((await op.execute(s.ctx)).tag).toBe('INSERT 0 3');
    expect(s.takes).toEqual([{ shards: [0, 2], use: { atomic: true, write: true } }]);
    expect(s.sent.get(0)?.[0]).toContain('VALUES (2), (4)');
    expect(s.sent.get(2)?.[0]).toContain('VALUES (1)');
    expect(s.sent.get(2)?.[0]).not.toContain('(4)');
  });

  it('Broadcast in autocommit runs on every shard and names the shards that failed and succeeded', async () => {
    const s = session((shard) =>
      shard === 1 ? failed('42P07', 'relation "t" already exists') : done('CREATE TABLE'),
    );
    const err = await new Broadcast([0, 1, 2], 'ddl-all-shards', 'CREATE TABLE t (a int)')
      .execute(s.ctx)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StatementError);
    const e = err as StatementError;
    expect(e.sqlstate).toBe('42P07');
    expect(e.message).toBe('statement failed on shard 1: relation "t" already exists');
    expect(e.body.toString()).toContain('it succeeded on shards 0, 2');
    expect(s.takes.map((t) => t.shards)).toEqual([[0], [1], [2]]);
    expect(s.catalogChanges).toBe(2);
  });

  it('Broadcast in a block runs in the block on every shard and answers one tag', async () => {
    const s = session(() => done('ALTER TABLE'), { inBlock: true });
    const out = await new Broadcast([0, 1], 'ddl-all-shards', 'ALTER TABLE t ADD b int').execute(s.ctx);
    expect(out.tag).toBe('ALTER TABLE');
    expect(s.takes).toEqual([{ shards: [0, 1], use: { atomic: true, write: true } }]);
    expect(s.catalogChanges).toBe(1);
  });

  it('Gather runs its row plan on the shards and tags the merged rows; binary results are refused', async () => {
    const rows = (shard: number) => [
      be.rowDescription([{ name: 'n', typeOid: be.TypeOid.int4 }]),
      be.dataRow([String(shard)]),
      be.commandComplete('SELECT 1'),
    ];
    const s = session(rows);
    const op = new Gather(new Route([0, 1, 2], 'SELECT n FROM t'), [0, 1, 2], 'no-shard-key', false);
    const out = await op.execute(s.ctx);
    expect(out.tag).toBe('SELECT 3');
    expect(out.rows.map((r) => r[0]?.toString())).toEqual(['0', '1', '2']);
    expect(s.takes).toEqual([{ shards: [0, 1, 2], use: { atomic: false, write: false } }]);
    const binary = session(rows, { formats: [1] });
    await expect(op.execute(binary.ctx)).rejects.toMatchObject({ sqlstate: '0A000' });
    expect(binary.takes).toEqual([]);
  });
});
