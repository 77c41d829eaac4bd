// SHOW RESHARD: each reshard of this proxy's databases: target, phase, status, rows copied and streamed,
// stream lag (the reverse stream's after the switch), verification, how long the cutover (and a REVERT) held
// statements, and the error of a failed one.
import type { CutoverResult } from '../../reshard/cutover.js';
import { liveReshards } from '../../reshard/job.js';
import type { ConsoleCommand } from './console-command.js';
import { int, text } from './console-result.js';

export const showReshard: ConsoleCommand = {
  name: 'SHOW RESHARD',
  description:
    "one row per reshard: database, target, phase (reverse after the switch, until REVERT or FINISH), status, rows copied, rows streamed, lag in bytes, verification, paused ms (drain, catch-up, verify, reverse slots; the REVERT's once it ran), proxy instances switched, the live verification before the pause (rows, passes, ms), the keys re-compared in the pause and how long that took, error",
  async run(source) {
    const served = new Set(source.databases().values());
    const jobs = [...liveReshards()].filter((job) => served.has(job.db));
    const rows = await Promise.all(
      jobs.map(async (job) => {
        const lag = (await job.lag()?.catch(() => null)) ?? null;
        const checks = job.cutover?.checks;
        const latest = job.revertCutover ?? job.cutover;
        return [
          job.db.name,
          job.target,
          job.phase,
          job.status,
          job.rowsCopied,
          lag?.applied ?? null,
          lag ? lag.lagBytes.reduce((a, b) => a + b, 0) : null,
          checks ? `${checks.filter((c) => c.equal).length}/${checks.length} tables equal` : null,
          (job.revertCutover ?? job.cutover)?.pausedMs ?? null,
          (job.revertCutover ?? job.cutover)?.instances ?? null,
          pauseDetail(job.cutover, job.revertCutover),
          latest ? liveDetail(latest) : null,
          latest?.tail.keys ?? null,
          latest?.tail.ms ?? null,
          job.error,
        ];
      }),
    );
    return {
      columns: [
        text('database'),
        text('target'),
        text('phase'),
        text('status'),
        int('rows_copied'),
        int('rows_streamed'),
        int('lag_bytes'),
        text('verification'),
        int('paused_ms'),
        int('instances'),
        text('pause_detail_ms'),
        text('live_verification'),
        int('tail_keys'),
        int('tail_ms'),
        text('error'),
      ],
      rows,
      tag: 'SHOW',
    };
  },
};

const detailOf = (c: CutoverResult) =>
  `drain ${c.drainMs}, catch-up ${c.catchUpMs}, verify ${c.verifyMs}` +
  (c.beforeSwitchMs > 0 ? `, reverse slots ${c.beforeSwitchMs}` : '');

function pauseDetail(cutover: CutoverResult | null, revert: CutoverResult | null): string | null {
  if (!cutover) return null;
  return revert ? `${detailOf(cutover)}; revert ${revert.pausedMs}: ${detailOf(revert)}` : detailOf(cutover);
}

/** The live verification of the latest cutover: rows read on the side it left, passes, time, tables left whole. */
function liveDetail(c: CutoverResult): string {
  const whole = c.tail.whole.length > 0 ? `; compared whole in the pause: ${c.tail.whole.join(', ')}` : '';
  return `${c.checks.length} tables, ${c.live.rows} rows equal in ${c.live.passes} passes, ${c.live.ms} ms${whole}`;
}
