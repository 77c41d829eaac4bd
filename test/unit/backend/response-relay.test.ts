// ResponseRelay: server replies reach the client byte-exact however they are chunked, minus the replies the proxy hides.
import { describe, expect, it } from 'vitest';
import {
  ParseKind,
  ResponseRelay,
  errorMessageOf,
  type RelayTarget,
} from '../../../src/backend/response-relay.js';
import * as w from '../fixtures/wire.js';

type Event = { kind: 'ready'; status: number; at: number } | { kind: 'param'; name: string; value: string };

/** Copies what it is sent (the relay's chunks are only valid during the call) and records callbacks in order. */
class Recorder implements RelayTarget {
  chunks: Buffer[] = [];
  bytes = 0;
  events: Event[] = [];
  emptySends = 0;
  lost = 0;
  onReadyHook: ((status: number) => void) | null = null;

  send(chunk: Buffer): void {
    if (chunk.length === 0) this.emptySends++;
    this.chunks.push(Buffer.from(chunk));
    this.bytes += chunk.length;
  }

  onReady(status: number): void {
    this.events.push({ kind: 'ready', status, at: this.bytes });
    this.onReadyHook?.(status);
  }

  onParameterStatus(name: string, value: string): void {
    this.events.push({ kind: 'param', name, value });
  }

  onServerLost(): void {
    this.lost++;
  }

  output(): Buffer {
    return Buffer.concat(this.chunks);
  }

  readies(): { status: number; at: number }[] {
    return this.events.flatMap((e) => (e.kind === 'ready' ? [{ status: e.status, at: e.at }] : []));
  }

  params(): [string, string][] {
    return this.events.flatMap((e) => (e.kind === 'param' ? [[e.name, e.value] as [string, string]] : []));
  }
}

/** One server message and whether the client should see it. */
interface Step {
  bytes: Buffer;
  keep: boolean;
}

const keep = (bytes: Buffer): Step => ({ bytes, keep: true });
const drop = (bytes: Buffer): Step => ({ bytes, keep: false });

interface Scenario<C> {
  name: string;
  steps: Step[];
  /** Prepares a fresh relay (epochs, tracked Parses, internal queries) and returns what the checks need. */
  setup(relay: ResponseRelay): C;
  /** Extra checks once every chunk was processed. */
  check?(ctx: C, relay: ResponseRelay, target: Recorder, label: string): void;
}

/** What the client must receive, and where each of its ReadyForQuery messages ends in that output. */
function expectation(steps: Step[]): { output: Buffer; readies: { status: number; at: number }[] } {
  const kept = steps.filter((s) => s.keep).map((s) => s.bytes);
  const ends = w.messageEnds(kept);
  const readies = kept.flatMap((m, i) => (m[0] === 0x5a ? [{ status: m[5], at: ends[i] }] : []));
  return { output: Buffer.concat(kept), readies };
}

function run<C>(s: Scenario<C>, chunks: Buffer[]): { relay: ResponseRelay; target: Recorder; ctx: C } {
  const relay = new ResponseRelay();
  const target = new Recorder();
  relay.target = target;
  const ctx = s.setup(relay);
  for (const c of chunks) relay.process(c);
  return { relay, target, ctx };
}

/** Runs a scenario for one chunking; a cheap comparison first, detailed expects only when it differs. */
function verify<C>(s: Scenario<C>, chunks: Buffer[], label: string): void {
  const want = expectation(s.steps);
  const { relay, target, ctx } = run(s, chunks);
  const out = target.output();
  const ok =
    out.equals(want.output) &&
    target.emptySends === 0 &&
    JSON.stringify(target.readies()) === JSON.stringify(want.readies);
  if (!ok) {
    expect(out.toString('hex'), `${label}: bytes sent to the client`).toBe(want.output.toString('hex'));
    expect(target.readies(), `${label}: onReady calls (status, bytes sent before)`).toEqual(want.readies);
    expect(target.emptySends, `${label}: empty sends`).toBe(0);
  }
  expect(ok, label).toBe(true);
  s.check?.(ctx, relay, target, label);
}

function allChunkings(buf: Buffer, pairs: boolean) {
  return [...w.everySplit(buf), ...(pairs ? w.everyTwoCuts(buf) : []), ...w.randomSplits(buf, 200, 9)];
}

// ---- Scenarios ----

const rows = (n: number) =>
  Array.from({ length: n }, (_, i) => w.dataRow([String(i), i % 2 ? null : `row ${i} ünï`]));

const plainTraffic: Scenario<null> = {
  name: 'extended query, async messages, simple query, COPY out',
  steps: [
    keep(w.parseComplete()),
    keep(w.bindComplete()),
    keep(
      w.rowDescription([
        { name: 'id', typeOid: 23, typeSize: 4 },
        { name: 'name', typeOid: 25 },
      ]),
    ),
    ...rows(5).map(keep),
    keep(w.commandComplete('SELECT 5')),
    keep(w.readyForQuery('I')),
    keep(
      w.noticeResponse([
        ['S', 'NOTICE'],
        ['V', 'NOTICE'],
        ['C', '00000'],
        ['M', 'relation exists, skipping'],
      ]),
    ),
    keep(w.parameterStatus('application_name', 'reporting')),
    keep(w.notificationResponse(4242, 'events', '{"id":1}')),
    keep(w.rowDescription([{ name: 'x', typeOid: 25 }])),
    keep(w.dataRow(['x'])),
    keep(w.commandComplete('SELECT 1')),
    keep(w.emptyQueryResponse()),
    keep(w.readyForQuery('T')),
    keep(w.copyOutResponse(0, [0, 0])),
    keep(w.copyData('1\ta\n')),
    keep(w.copyData('2\tb\n')),
    keep(w.copyDone()),
    keep(w.commandComplete('COPY 2')),
    keep(w.readyForQuery('E')),
  ],
  setup(relay) {
    relay.sendEpoch = 3;
    return null;
  },
  check(_ctx, relay, target, label) {
    expect(target.params(), label).toEqual([['application_name', 'reporting']]);
    expect(relay.recvEpoch, label).toBe(3);
    expect(relay.busy(), label).toBe(false);
    expect(relay.status, label).toBe(0x45);
  },
};

interface FailCounts {
  fails: Record<string, number>;
}

function tracked(
  relay: ResponseRelay,
  ctx: FailCounts,
  name: string,
  epoch: number,
  kind: ParseKind,
): boolean {
  ctx.fails[name] = 0;
  return relay.trackParse({ epoch, kind, onFail: () => ctx.fails[name]++ });
}

const injectedParses: Scenario<FailCounts> = {
  name: 'ParseComplete of injected Parses dropped, of client and stand-in Parses kept',
  steps: [
    keep(w.parseComplete()),
    drop(w.parseComplete()),
    keep(w.parseComplete()),
    drop(w.parseComplete()),
    keep(w.bindComplete()),
    keep(w.rowDescription([{ name: 'n', typeOid: 20, typeSize: 8 }])),
    ...rows(3).map(keep),
    keep(w.commandComplete('SELECT 3')),
    drop(w.parseComplete()),
    keep(w.bindComplete()),
    keep(w.commandComplete('UPDATE 2')),
    keep(w.readyForQuery('I')),
  ],
  setup(relay) {
    const ctx: FailCounts = { fails: {} };
    relay.sendEpoch = 1;
    tracked(relay, ctx, 'client', 0, ParseKind.Client);
    tracked(relay, ctx, 'injected1', 0, ParseKind.Injected);
    tracked(relay, ctx, 'standin', 0, ParseKind.StandIn);
    tracked(relay, ctx, 'injected2', 0, ParseKind.Injected);
    tracked(relay, ctx, 'injected3', 0, ParseKind.Injected);
    return ctx;
  },
  check(ctx, relay, _t, label) {
    expect(ctx.fails, label).toEqual({ client: 0, injected1: 0, standin: 0, injected2: 0, injected3: 0 });
    expect(relay.busy(), label).toBe(false);
  },
};

const errorInRound: Scenario<FailCounts> = {
  name: 'ErrorResponse fails the unanswered Parses of its round; the next round matches its own',
  steps: [
    keep(w.parseComplete()),
    keep(w.simpleError('42P01', 'relation "nope" does not exist')),
    keep(w.readyForQuery('I')),
    drop(w.parseComplete()),
    keep(w.parseComplete()),
    keep(w.bindComplete()),
    keep(w.dataRow(['1'])),
    keep(w.commandComplete('SELECT 1')),
    keep(w.readyForQuery('I')),
  ],
  setup(relay) {
    const ctx: FailCounts = { fails: {} };
    relay.sendEpoch = 2;
    tracked(relay, ctx, 'answered', 0, ParseKind.Client);
    tracked(relay, ctx, 'skipped-injected', 0, ParseKind.Injected);
    tracked(relay, ctx, 'skipped-client', 0, ParseKind.Client);
    tracked(relay, ctx, 'next-injected', 1, ParseKind.Injected);
    tracked(relay, ctx, 'next-client', 1, ParseKind.Client);
    return ctx;
  },
  check(ctx, _r, _t, label) {
    expect(ctx.fails, label).toEqual({
      answered: 0,
      'skipped-injected': 1,
      'skipped-client': 1,
      'next-injected': 0,
      'next-client': 0,
    });
  },
};

interface InternalCtx extends FailCounts {
  results: (string | undefined)[];
  settled: number;
  written: Buffer[];
}

const internalThenClient: Scenario<InternalCtx> = {
  name: 'internal query replies dropped entirely, the client round after it relayed',
  steps: [
    drop(w.commandComplete('SET')),
    drop(
      w.noticeResponse([
        ['S', 'NOTICE'],
        ['C', '00000'],
        ['M', 'internal notice'],
      ]),
    ),
    drop(w.readyForQuery('I')),
    drop(w.parseComplete()),
    keep(w.bindComplete()),
    keep(w.noData()),
    keep(w.commandComplete('UPDATE 1')),
    keep(w.readyForQuery('I')),
  ],
  setup(relay) {
    const ctx: InternalCtx = { fails: {}, results: [], settled: 0, written: [] };
    void relay
      .internalQuery((b) => ctx.written.push(b), w.query("SET search_path = 'app'"))
      .then((r) => {
        ctx.results.push(r);
        ctx.settled++;
      });
    relay.sendEpoch++;
    tracked(relay, ctx, 'injected', 1, ParseKind.Injected);
    return ctx;
  },
  check(ctx, relay, _t, label) {
    expect(ctx.written.length, label).toBe(1);
    expect(ctx.fails, label).toEqual({ injected: 0 });
    expect(relay.busy(), label).toBe(false);
  },
};

const internalError: Scenario<InternalCtx> = {
  name: 'internal query error dropped',
  steps: [
    drop(
      w.errorResponse([
        ['S', 'ERROR'],
        ['V', 'ERROR'],
        ['C', '42704'],
        ['M', 'unrecognized configuration parameter "nope"'],
        ['F', 'guc.c'],
        ['L', '1'],
        ['R', 'x'],
      ]),
    ),
    drop(w.readyForQuery('I')),
  ],
  setup(relay) {
    const ctx: InternalCtx = { fails: {}, results: [], settled: 0, written: [] };
    void relay
      .internalQuery((b) => ctx.written.push(b), w.query('SET nope = 1'))
      .then((r) => ctx.results.push(r));
    return ctx;
  },
};

const flush = () => new Promise((r) => setImmediate(r));

describe('ResponseRelay byte-exact relaying at every split', () => {
  const scenarios = [
    plainTraffic,
    injectedParses,
    errorInRound,
    internalThenClient,
    internalError,
  ] as Scenario<unknown>[];
  for (const s of scenarios) {
    const stream = Buffer.concat(s.steps.map((x) => x.bytes));
    it(`${s.name}: every cut, one byte at a time, all at once, random`, () => {
      for (const { label, chunks } of allChunkings(stream, false)) verify(s, chunks, label);
    });
    it(`${s.name}: every pair of cuts up to 40 bytes apart`, () => {
      for (const { label, chunks } of w.everyTwoCuts(stream, 40)) verify(s, chunks, label);
    });
  }
});

describe('ResponseRelay injected ParseComplete', () => {
  it('drops exactly the 5 bytes of the injected ParseComplete wherever the chunks are cut', () => {
    const steps = [
      keep(w.bindComplete()),
      drop(w.parseComplete()),
      keep(w.bindComplete()),
      keep(w.readyForQuery('I')),
    ];
    const s: Scenario<null> = {
      name: 'lone injected',
      steps,
      setup(relay) {
        relay.sendEpoch = 1;
        relay.trackParse({ epoch: 0, kind: ParseKind.Injected });
        return null;
      },
    };
    const stream = Buffer.concat(steps.map((x) => x.bytes));
    for (const { label, chunks } of [...allChunkings(stream, true)]) verify(s, chunks, label);
  });

  it('forwards a ParseComplete that no tracked Parse claims', () => {
    const { target } = run({ name: 'untracked', steps: [], setup: () => null }, [w.parseComplete()]);
    expect(target.output().equals(w.parseComplete())).toBe(true);
  });
});

describe('ResponseRelay internal queries', () => {
  it('writes the message, counts it as sent, and resolves with undefined on success', async () => {
    const relay = new ResponseRelay();
    const target = new Recorder();
    relay.target = target;
    const written: Buffer[] = [];
    const q = relay.internalQuery((b) => written.push(b), w.query('SET x = 1'));
    expect(written.map((b) => b.toString('hex'))).toEqual([w.query('SET x = 1').toString('hex')]);
    expect(relay.sendEpoch).toBe(1);
    expect(relay.busy()).toBe(true);
    relay.process(Buffer.concat([w.commandComplete('SET'), w.readyForQuery('I')]));
    await expect(q).resolves.toBeUndefined();
    expect(relay.busy()).toBe(false);
    expect(target.bytes).toBe(0);
    expect(target.events).toEqual([]);
  });

  it('resolves with the error text when an ErrorResponse arrives, at every split', async () => {
    const stream = Buffer.concat(internalError.steps.map((s) => s.bytes));
    for (const { label, chunks } of allChunkings(stream, true)) {
      const { ctx, target } = run(internalError, chunks);
      await flush();
      expect(ctx.results.length, label).toBe(1);
      expect(ctx.results[0], label).toContain('unrecognized configuration parameter "nope"');
      expect(ctx.results[0], label).toContain('42704');
      expect(target.bytes, label).toBe(0);
      expect(target.events, label).toEqual([]);
    }
  });

  it('resolves after the internal ReadyForQuery, before the client round that follows', async () => {
    const stream = Buffer.concat(internalThenClient.steps.map((s) => s.bytes));
    for (const { label, chunks } of allChunkings(stream, false)) {
      const { ctx } = run(internalThenClient, chunks);
      await flush();
      expect(ctx.results, label).toEqual([undefined]);
    }
  });

  it('resolves only when its own ReadyForQuery arrives', async () => {
    const relay = new ResponseRelay();
    let settled = false;
    void relay.internalQuery(() => {}, w.query('SELECT 1')).then(() => (settled = true));
    const stream = Buffer.concat([
      w.rowDescription([{ name: 'x', typeOid: 23 }]),
      w.dataRow(['1']),
      w.commandComplete('SELECT 1'),
    ]);
    relay.process(stream);
    await flush();
    expect(settled).toBe(false);
    relay.process(w.readyForQuery('I'));
    await flush();
    expect(settled).toBe(true);
  });

  it('abort() resolves every pending internal query with the reason', async () => {
    const relay = new ResponseRelay();
    const a = relay.internalQuery(() => {}, w.query('SET a = 1'));
    const b = relay.internalQuery(() => {}, w.query('SET b = 1'));
    relay.abort('server connection closed');
    await expect(a).resolves.toBe('server connection closed');
    await expect(b).resolves.toBe('server connection closed');
  });
});

describe('ResponseRelay Sync rounds and Parse bookkeeping', () => {
  it('busy() follows sent Sync/Query against received ReadyForQuery', () => {
    const relay = new ResponseRelay();
    relay.target = new Recorder();
    expect(relay.busy()).toBe(false);
    relay.sendEpoch += 2;
    expect(relay.busy()).toBe(true);
    relay.process(w.readyForQuery('T'));
    expect([relay.recvEpoch, relay.busy(), relay.status]).toEqual([1, true, 0x54]);
    const last = w.readyForQuery('I');
    relay.process(last.subarray(0, 5));
    expect(relay.busy()).toBe(true);
    relay.process(last.subarray(5));
    expect([relay.recvEpoch, relay.busy(), relay.status]).toEqual([2, false, 0x49]);
  });

  it('refuses to track a Parse of a round that already failed, and tracks the next round again', () => {
    const relay = new ResponseRelay();
    relay.target = new Recorder();
    relay.sendEpoch = 1;
    expect(relay.trackParse({ epoch: 0, kind: ParseKind.Client })).toBe(true);
    relay.process(w.simpleError('42601', 'syntax error'));
    expect(relay.trackParse({ epoch: 0, kind: ParseKind.Client })).toBe(false);
    relay.process(w.readyForQuery('I'));
    relay.sendEpoch++;
    expect(relay.trackParse({ epoch: 1, kind: ParseKind.Injected })).toBe(true);
    const target = relay.target as Recorder;
    relay.process(Buffer.concat([w.parseComplete(), w.readyForQuery('I')]));
    expect(
      target
        .output()
        .equals(
          Buffer.concat([w.simpleError('42601', 'syntax error'), w.readyForQuery('I'), w.readyForQuery('I')]),
        ),
    ).toBe(true);
  });

  it('fails Parses left unanswered when their round ends, keeping later rounds’ Parses', () => {
    const relay = new ResponseRelay();
    const target = new Recorder();
    relay.target = target;
    relay.sendEpoch = 2;
    const fails: string[] = [];
    relay.trackParse({ epoch: 0, kind: ParseKind.Client, onFail: () => fails.push('r0') });
    relay.trackParse({ epoch: 1, kind: ParseKind.Injected, onFail: () => fails.push('r1') });
    relay.process(w.readyForQuery('I'));
    expect(fails).toEqual(['r0']);
    relay.process(Buffer.concat([w.parseComplete(), w.readyForQuery('I')]));
    expect(fails).toEqual(['r0']);
    expect(target.output().equals(Buffer.concat([w.readyForQuery('I'), w.readyForQuery('I')]))).toBe(true);
  });

  it('calls onReady only after every byte before the ReadyForQuery was sent, and before any after it', () => {
    const before = Buffer.concat([w.bindComplete(), ...rows(4), w.commandComplete('SELECT 4')]);
    const rfq = w.readyForQuery('I');
    const after = w.notificationResponse(1, 'c', 'p');
    const stream = Buffer.concat([before, rfq, after]);
    for (const { label, chunks } of allChunkings(stream, false)) {
      const relay = new ResponseRelay();
      const target = new Recorder();
      relay.target = target;
      relay.sendEpoch = 1;
      let sentAtReady = -1;
      target.onReadyHook = () => (sentAtReady = target.bytes);
      for (const c of chunks) relay.process(c);
      expect(sentAtReady, label).toBe(before.length + rfq.length);
      expect(target.output().equals(stream), label).toBe(true);
    }
  });

  it('sends nothing after ReadyForQuery to a target detached in onReady (the connection went back to the pool)', () => {
    const stream = Buffer.concat([
      w.commandComplete('SELECT 0'),
      w.readyForQuery('I'),
      w.notificationResponse(1, 'c', 'late'),
    ]);
    for (const { label, chunks } of allChunkings(stream, false)) {
      const relay = new ResponseRelay();
      const target = new Recorder();
      relay.target = target;
      relay.sendEpoch = 1;
      target.onReadyHook = () => (relay.target = null);
      for (const c of chunks) relay.process(c);
      expect(target.output().toString('hex'), label).toBe(
        Buffer.concat([w.commandComplete('SELECT 0'), w.readyForQuery('I')]).toString('hex'),
      );
    }
  });

  it('reports ParameterStatus split anywhere with the right name and value', () => {
    const stream = Buffer.concat([
      w.parameterStatus('TimeZone', 'Europe/Zürich'),
      w.parameterStatus('DateStyle', 'ISO, DMY'),
    ]);
    for (const { label, chunks } of allChunkings(stream, true)) {
      const { target } = run({ name: 'ps', steps: [], setup: () => null }, chunks);
      expect(target.params(), label).toEqual([
        ['TimeZone', 'Europe/Zürich'],
        ['DateStyle', 'ISO, DMY'],
      ]);
    }
  });

  it('survives messages while no client is attached', () => {
    const relay = new ResponseRelay();
    relay.process(
      Buffer.concat([w.parameterStatus('application_name', 'x'), w.notificationResponse(1, 'c', 'p')]),
    );
    const target = new Recorder();
    relay.target = target;
    relay.sendEpoch = 1;
    relay.process(w.readyForQuery('I'));
    expect(target.readies()).toEqual([{ status: 0x49, at: 6 }]);
  });
});

describe('ResponseRelay large messages', () => {
  it('relays a 1 MB DataRow arriving in 64 KB chunks byte-exact', () => {
    const big = w.dataRow([Buffer.alloc(1 << 20, 0x41).toString('latin1'), null]);
    const stream = Buffer.concat([
      w.bindComplete(),
      big,
      w.commandComplete('SELECT 1'),
      w.readyForQuery('I'),
    ]);
    const relay = new ResponseRelay();
    const target = new Recorder();
    relay.target = target;
    relay.sendEpoch = 1;
    for (let pos = 0; pos < stream.length; pos += 65536) relay.process(stream.subarray(pos, pos + 65536));
    expect(target.output().equals(stream)).toBe(true);
    expect(target.readies()).toEqual([{ status: 0x49, at: stream.length }]);
  });

  it('relays an ErrorResponse larger than what it collects, and still fails the round’s Parses', () => {
    const err = w.simpleError('XX000', 'z'.repeat(100000));
    const stream = Buffer.concat([err, w.readyForQuery('I')]);
    const relay = new ResponseRelay();
    const target = new Recorder();
    relay.target = target;
    relay.sendEpoch = 1;
    let failed = 0;
    relay.trackParse({ epoch: 0, kind: ParseKind.Injected, onFail: () => failed++ });
    for (let pos = 0; pos < stream.length; pos += 65536) relay.process(stream.subarray(pos, pos + 65536));
    expect(target.output().equals(stream)).toBe(true);
    expect(failed).toBe(1);
  });
});

describe('ResponseRelay and a reused read buffer', () => {
  const scenarios = [plainTraffic, injectedParses, errorInRound, internalThenClient] as Scenario<unknown>[];
  for (const s of scenarios) {
    it(`${s.name}: output is unaffected when the caller overwrites each chunk after process()`, () => {
      const stream = Buffer.concat(s.steps.map((x) => x.bytes));
      for (const { label, chunks } of allChunkings(stream, false)) {
        const reused = Buffer.alloc(stream.length);
        const relay = new ResponseRelay();
        const target = new Recorder();
        relay.target = target;
        s.setup(relay);
        for (const c of chunks) {
          const n = c.copy(reused, 0);
          relay.process(reused.subarray(0, n));
          reused.fill(0xa5);
        }
        const want = expectation(s.steps);
        expect(target.output().toString('hex'), label).toBe(want.output.toString('hex'));
        expect(target.readies(), label).toEqual(want.readies);
      }
    });
  }
});

describe('errorMessageOf', () => {
  it('gives the M field with the SQLSTATE', () => {
    const body = w.splitMessages(
      w.simpleError('23505', 'duplicate key value violates unique constraint "t_pkey"'),
    )[0].body;
    expect(errorMessageOf(body)).toBe(
      'duplicate key value violates unique constraint "t_pkey" (SQLSTATE 23505)',
    );
  });

  it('falls back when fields are missing', () => {
    const body = w.splitMessages(w.errorResponse([['S', 'ERROR']]))[0].body;
    expect(errorMessageOf(body)).toBe('error');
  });
});
