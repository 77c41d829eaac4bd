// Reshard progress per database, read from this process's reshard jobs at scrape time: phase, rows, lag, and
// the latest cutover's pause, live verification and held tail.
import client from 'prom-client';
import { liveReshards, type ReshardJob } from '../reshard/job.js';

const phases = [
  'schema',
  'copy',
  'indexes',
  'stream',
  'cutover',
  'reverse',
  'revert',
  'reverted',
  'finished',
  'cancelled',
];

export function registerReshardMetrics(registry: client.Registry): void {
  const perJob = (name: string, help: string, value: (job: ReshardJob) => number | null) =>
    new client.Gauge({
      name,
      help,
      labelNames: ['database', 'target'],
      registers: [registry],
      collect() {
        this.reset();
        for (const job of liveReshards()) {
          const v = value(job);
          if (v !== null) this.set({ database: job.db.name, target: job.target }, v);
        }
      },
    });
  new client.Gauge({
    name: 'polyproxy_reshard_phase',
    help: 'The phase each reshard is in (1 on its phase; failed ones keep the phase they failed in)',
    labelNames: ['database', 'target', 'phase', 'status'],
    registers: [registry],
    collect() {
      this.reset();
      for (const job of liveReshards())
        for (const phase of phases)
          this.set(
            { database: job.db.name, target: job.target, phase, status: job.status },
            job.phase === phase ? 1 : 0,
          );
    },
  });
  perJob(
    'polyproxy_reshard_rows_copied',
    'Rows the initial copy wrote to the new shards',
    (j) => j.rowsCopied,
  );
  perJob(
    'polyproxy_reshard_rows_streamed',
    'Rows the change streams wrote to the new shards (after the switch: the reverse stream to the old ones)',
    (j) => j.rowsStreamed,
  );
  new client.Gauge({
    name: 'polyproxy_reshard_lag_bytes',
    help: "WAL the old primaries (after the switch: the new ones) wrote that the reshard's streams have not confirmed yet",
    labelNames: ['database', 'target'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const job of liveReshards()) {
        const lag = (await job.lag()?.catch(() => null)) ?? null;
        if (lag)
          this.set(
            { database: job.db.name, target: job.target },
            lag.lagBytes.reduce((a, b) => a + b, 0),
          );
      }
    },
  });
  perJob(
    'polyproxy_reshard_paused_seconds',
    "How long the cutover held the database's new statements",
    (j) => (j.cutover ? j.cutover.pausedMs / 1000 : null),
  );
  const latest = (j: ReshardJob) => j.revertCutover ?? j.cutover;
  perJob(
    'polyproxy_reshard_live_verification_seconds',
    'How long the latest cutover compared both sides before the pause, while clients wrote',
    (j) => (latest(j) ? latest(j)!.live.ms / 1000 : null),
  );
  perJob(
    'polyproxy_reshard_tail_keys',
    'Rows the latest cutover re-compared while statements were held (those the stream touched since the live verification)',
    (j) => latest(j)?.tail.keys ?? null,
  );
  perJob(
    'polyproxy_reshard_tail_seconds',
    'How long the latest cutover took to re-compare that tail while statements were held',
    (j) => (latest(j) ? latest(j)!.tail.ms / 1000 : null),
  );
}
