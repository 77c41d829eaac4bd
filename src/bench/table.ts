// The results table, as Markdown so it reads in a terminal and pastes into a README.
import { ratio, type CellSummary, type TargetSummary } from './summary.js';

/** Ratios of the subject to each peer, shown when both targets ran. */
const subject = 'polyproxy';
const peers = ['pgbouncer', 'direct'];

const tpsText = (s: TargetSummary | undefined, mark: string) => {
  if (!s || s.runs === 0) return '–';
  if (s.tps === null) return 'failed';
  const failed = s.failures ? ` (${s.failures}/${s.runs} failed)` : '';
  return `${Math.round(s.tps)}${s.variant ? mark : ''}${failed}`;
};

const latencyText = (s: TargetSummary | undefined) => (s?.latencyMs == null ? '–' : s.latencyMs.toFixed(2));

const ratioText = (r: number | null) => (r === null ? '–' : r.toFixed(2));

const cpuText = (us: number | null | undefined) => (us == null ? '–' : us.toFixed(1));

function render(rows: string[][], rightAligned: boolean[]): string {
  const widths = rows[0].map((_, i) => Math.max(3, ...rows.map((row) => row[i].length)));
  const line = (row: string[]) =>
    `| ${row.map((c, i) => (rightAligned[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join(' | ')} |`;
  const rule = `| ${widths.map((w, i) => (rightAligned[i] ? `${'-'.repeat(w - 1)}:` : '-'.repeat(w))).join(' | ')} |`;
  return [line(rows[0]), rule, ...rows.slice(1).map(line)].join('\n');
}

/** The table plus footnotes for marked cells (a target that ran a cell in a different set-up). */
export function formatTable(cells: CellSummary[], targetNames: string[]): string {
  const shownPeers = targetNames.includes(subject) ? peers.filter((p) => targetNames.includes(p)) : [];
  // CPU per transaction of the poolers' own processes: steadier than tps on a busy machine.
  const metered = targetNames.filter((t) => cells.some((c) => c.targets[t]?.cpuUsPerTx != null));
  // Reference targets (bare relays) are compared with PgBouncer too: the floor their runtime sets.
  const references = targetNames.includes('pgbouncer')
    ? targetNames.filter((t) => t !== subject && !peers.includes(t))
    : [];
  const header = [
    'workload',
    'mode',
    'clients',
    ...targetNames.map((t) => `tps ${t}`),
    ...targetNames.map((t) => `lat ms ${t}`),
    ...metered.map((t) => `cpu µs/tx ${t}`),
    ...shownPeers.map((p) => `${subject}/${p}`),
    ...references.map((t) => `${t}/pgbouncer`),
  ];
  const marks = new Map<string, string>();
  const markFor = (target: string, variant: string) => {
    const key = `${target}: ${variant}`;
    if (!marks.has(key)) marks.set(key, '†'.repeat(marks.size + 1));
    return marks.get(key)!;
  };
  const rows = cells.map((cell) => [
    cell.workloadLabel,
    cell.mode,
    String(cell.clients),
    ...targetNames.map((t) => {
      const s = cell.targets[t];
      return tpsText(s, s?.variant ? markFor(t, s.variant) : '');
    }),
    ...targetNames.map((t) => latencyText(cell.targets[t])),
    ...metered.map((t) => cpuText(cell.targets[t]?.cpuUsPerTx)),
    ...shownPeers.map((p) => ratioText(ratio(cell.targets[subject]?.tps, cell.targets[p]?.tps))),
    ...references.map((t) => ratioText(ratio(cell.targets[t]?.tps, cell.targets.pgbouncer?.tps))),
  ]);
  const aligned = header.map((_, i) => i >= 2);
  const notes = [...marks].map(([key, mark]) => `${mark} ${key}`);
  return [render([header, ...rows], aligned), ...(notes.length ? ['', ...notes] : [])].join('\n');
}

const signed = (us: number | null) => (us === null ? '–' : `${us >= 0 ? '+' : ''}${us.toFixed(1)}`);

/**
 * Sharded cells against their unsharded baseline through polyproxy, each sharded run paired with a baseline
 * run right beside it: what routing over shards costs, in throughput and in the proxy's CPU per
 * transaction. Empty when no pair ran.
 */
export function formatShardingRatios(cells: CellSummary[]): string {
  const rows = cells.flatMap((cell) => {
    const { paired } = cell;
    if (!paired || paired.pairs === 0) return [];
    const sharded = cell.targets[subject];
    return [
      [
        cell.workloadLabel,
        cell.mode,
        String(cell.clients),
        paired.workloadLabel,
        String(paired.pairs),
        sharded?.tps == null ? '–' : String(Math.round(sharded.tps)),
        paired.tps == null ? '–' : String(Math.round(paired.tps)),
        ratioText(paired.tpsRatio),
        cpuText(sharded?.cpuUsPerTx),
        cpuText(paired.cpuUsPerTx),
        signed(paired.cpuUsPerTxExtra),
      ],
    ];
  });
  if (rows.length === 0) return '';
  const header = [
    'sharded workload',
    'mode',
    'clients',
    'unsharded baseline',
    'pairs',
    'tps sharded',
    'tps unsharded',
    `${subject} sharded/unsharded (median of pairs)`,
    'cpu µs/tx sharded',
    'cpu µs/tx unsharded',
    'extra cpu µs/tx (median of pairs)',
  ];
  return render([header, ...rows], [false, false, true, false, ...Array<boolean>(7).fill(true)]);
}
