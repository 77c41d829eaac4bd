// The reshard bench's printed result: phases, copy rate, lag, the cutover's hold and the statements it held,
// latency before / during / after, failures by SQLSTATE and the ledger check.
import type { ClientResult } from './reshard-clients.js';
import type { CheckResult } from './reshard-check.js';
import type { ProxyLog } from './reshard-log.js';
import type { SlotLag } from './reshard-slots.js';
import type { ReshardRow, ReshardWatch } from './reshard-watch.js';

export interface BenchRun {
  readonly rows: number;
  readonly from: number;
  readonly to: number;
  readonly clients: number;
  readonly minIdle: number;
  readonly tableBytes: number;
  readonly load: { start: number; end: number };
  readonly reshardStart: number;
  readonly switchedAt: number;
  readonly finishMs: number;
  readonly watch: ReshardWatch;
  readonly slotLag: SlotLag;
  readonly row: ReshardRow;
  readonly proxyLog: ProxyLog;
  readonly results: readonly ClientResult[];
  readonly check: CheckResult | null;
}

interface Latency {
  n: number;
  p50: number;
  p99: number;
  max: number;
}

function latency(results: readonly ClientResult[], keep: (start: number, ms: number) => boolean): Latency {
  const picked: number[] = [];
  for (const r of results)
    for (let i = 0; i < r.starts.length; i++)
      if (keep(r.starts[i]!, r.durations[i]!)) picked.push(r.durations[i]!);
  picked.sort((a, b) => a - b);
  const at = (q: number) => picked[Math.min(picked.length - 1, Math.floor(q * picked.length))] ?? 0;
  return { n: picked.length, p50: at(0.5), p99: at(0.99), max: picked.at(-1) ?? 0 };
}

const ms = (x: number) => `${x < 10 ? x.toFixed(1) : Math.round(x)} ms`;
const s = (x: number) => `${(x / 1000).toFixed(1)} s`;
const lat = (l: Latency) => `${l.n} statements, p50 ${ms(l.p50)}, p99 ${ms(l.p99)}, max ${ms(l.max)}`;

const mb = (b: number) => `${(b / 2 ** 20).toFixed(1)} MB`;

/** Slot lag: its highest value between two times, and the first time after `from` it fell under 1 MB. */
function lagLine(run: BenchRun, copyFrom: number, copyTo: number, streamStart: number): string {
  const during = run.slotLag.between(copyFrom, copyTo).map((x) => x.bytes);
  const after = run.slotLag.between(streamStart, run.switchedAt);
  const low = after.find((x) => x.bytes < 2 ** 20);
  return (
    `slot lag (WAL the streams still had to apply): at the copy's end ${mb(during.at(-1) ?? 0)} (max ${mb(Math.max(0, ...during))}), ` +
    `at the streams' start ${mb(after[0]?.bytes ?? 0)}, under 1 MB ${low ? s(low.at - streamStart) : 'never'} after it`
  );
}

/** The forward streams' rows applied before the live verification began, and at what rate. */
function appliedLine(run: BenchRun, streamStart: number, liveStart: number): string {
  const before = run.watch.streamed.filter((x) => x.at <= liveStart);
  const last = before.at(-1);
  if (!last) return 'rows streamed: not sampled';
  const all = run.watch.streamed.at(-1)!;
  return (
    `rows streamed: ${last.rows} by the live verification's start (${Math.round(last.rows / ((last.at - streamStart) / 1000))} rows/s ` +
    `since the streams' start), ${all.rows} by the pause`
  );
}

function phaseLines(run: BenchRun): string[] {
  const { schemaEnd, copySeconds, copyEnd, streamStart, switched: sw } = run.proxyLog;
  if (schemaEnd === null || copySeconds === null || copyEnd === null || streamStart === null || !sw)
    return [`phases: incomplete in the proxy's log (${run.watch.spans.map((x) => x.phase).join(', ')})`];
  const copyFrom = copyEnd - copySeconds * 1000;
  const pauseStart = sw.at - sw.pausedMs;
  const copied = Number(run.row.rows_copied ?? 0);
  return [
    `phases: schema ${s(schemaEnd - run.reshardStart)}, slots and snapshot ${s(copyFrom - schemaEnd)}, ` +
      `copy ${copySeconds.toFixed(1)} s, keys and indexes ${s(streamStart - copyEnd)}, ` +
      `catch-up ${s(pauseStart - sw.live.ms - streamStart)}, live verification ${s(sw.live.ms)}, pause ${ms(sw.pausedMs)}; ` +
      `RESHARD to switch ${s(sw.at - run.reshardStart)}, FINISH ${ms(run.finishMs)}`,
    `copy: ${copied} rows in ${copySeconds.toFixed(1)} s = ${Math.round(copied / copySeconds)} rows/s, ` +
      `${(run.tableBytes / 2 ** 20 / copySeconds).toFixed(1)} MB/s (table ${mb(run.tableBytes)} on the old shards)`,
    lagLine(run, copyFrom, copyEnd, streamStart),
    appliedLine(run, streamStart, pauseStart - sw.live.ms),
    `live verification: ${run.row.live_verification} (clients writing)`,
    `pause: ${ms(sw.pausedMs)} (drain ${sw.drainMs}, catch-up ${sw.catchUpMs}, tail ${sw.tail.keys} keys + sequences ${sw.verifyMs}, reverse slots ${sw.beforeSwitchMs})`,
  ];
}

function latencyLines(run: BenchRun): string[] {
  const { results, reshardStart, switchedAt } = run;
  const switched = run.proxyLog.switched;
  const lines = [
    `latency before: ${lat(latency(results, (t) => t < reshardStart))}`,
    `latency during: ${lat(latency(results, (t) => t >= reshardStart && t < switchedAt))}`,
    `latency after:  ${lat(latency(results, (t) => t >= switchedAt))}`,
  ];
  if (switched) {
    const [pauseStart, pauseEnd] = [switched.at - switched.pausedMs, switched.at];
    const held = latency(results, (t) => t >= pauseStart && t <= pauseEnd);
    const overlapping = latency(results, (t, d) => t <= pauseEnd && t + d >= pauseStart);
    lines.push(
      `statements held (begun in the pause): ${held.n}, longest ${ms(held.max)}; ` +
        `longest statement in flight during the pause ${ms(overlapping.max)} (target ≤ 1000 ms)`,
      `slowest in flight during the pause: ${slowestInPause(results, pauseStart, pauseEnd)}`,
      `held statements finished after the gate opened: ${afterGate(results, pauseStart, pauseEnd)}`,
    );
  }
  return lines;
}

/** How long after the gate opened the statements begun in the pause finished: median and latest. */
function afterGate(results: readonly ClientResult[], pauseStart: number, pauseEnd: number): string {
  const ends: number[] = [];
  for (const r of results)
    for (let i = 0; i < r.starts.length; i++) {
      const start = r.starts[i]!;
      if (start >= pauseStart && start <= pauseEnd) ends.push(start + r.durations[i]! - pauseEnd);
    }
  if (ends.length === 0) return 'none held';
  ends.sort((a, b) => a - b);
  return `median ${ms(ends[Math.floor(ends.length / 2)]!)}, last ${ms(ends[ends.length - 1]!)} (${ends.length} held)`;
}

/** The slowest statements in flight during the pause: what they were and when they began and ended. */
function slowestInPause(results: readonly ClientResult[], pauseStart: number, pauseEnd: number): string {
  const hits: { kind: string; start: number; ms: number }[] = [];
  for (const r of results)
    for (let i = 0; i < r.starts.length; i++) {
      const [start, d] = [r.starts[i]!, r.durations[i]!];
      if (start <= pauseEnd && start + d >= pauseStart) hits.push({ kind: r.kinds[i]!, start, ms: d });
    }
  hits.sort((a, b) => b.ms - a.ms);
  const at = (t: number) => `${t - pauseStart >= 0 ? '+' : ''}${Math.round(t - pauseStart)}`;
  return hits
    .slice(0, 5)
    .map((h) => `${h.kind} ${ms(h.ms)} (${at(h.start)} to ${at(h.start + h.ms)} ms from the pause)`)
    .join(', ');
}

function failureLines(run: BenchRun): string[] {
  const byCode = new Map<string, { n: number; example: string }>();
  for (const r of run.results)
    for (const f of r.failures) {
      const e = byCode.get(f.code) ?? { n: 0, example: f.message };
      e.n++;
      byCode.set(f.code, e);
    }
  const stale = run.results.flatMap((r) => r.staleReads);
  const codes = [...byCode].map(([code, e]) => `${code} × ${e.n} (${e.example})`);
  const lines = [
    `failed client statements: ${codes.length === 0 ? 0 : codes.join('; ')}`,
    `stale reads: ${stale.length}${stale.length ? ` (${stale.slice(0, 3).join('; ')})` : ''}`,
  ];
  const c = run.check;
  if (c)
    lines.push(
      `ledger: ${c.rows} rows on the new shards (${c.expectedRows} expected): missing ${c.missing}, duplicated ${c.duplicated}, ` +
        `misplaced ${c.misplaced}, wrong value ${c.wrongValue}, unacknowledged ${c.unexpected}` +
        (c.examples.length ? ` — ${c.examples.join('; ')}` : ''),
    );
  return lines;
}

/** The result as lines; `ok` when nothing failed, was lost or duplicated. */
export function report(run: BenchRun): { lines: string[]; ok: boolean } {
  const c = run.check;
  const failed = run.results.reduce((n, r) => n + r.failures.length + r.staleReads.length, 0);
  const ok =
    run.row.status === 'finished' &&
    failed === 0 &&
    !!c &&
    c.missing + c.duplicated + c.misplaced + c.wrongValue + c.unexpected === 0;
  const head =
    `reshard ${run.from} -> ${run.to} shards of ${run.rows} rows under ${run.clients} clients, pool.min_idle ${run.minIdle} ` +
    `(load average ${run.load.start.toFixed(2)} at the start, ${run.load.end.toFixed(2)} at the end)`;
  const lines = [head, ...phaseLines(run), ...latencyLines(run), ...failureLines(run)];
  lines.push(
    `result: ${ok ? 'PASS' : 'FAIL'} (status ${run.row.status}${run.row.error ? `: ${run.row.error}` : ''})`,
  );
  return { lines, ok };
}
