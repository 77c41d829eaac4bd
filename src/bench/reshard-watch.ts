// The reshard bench's view of the job: SHOW RESHARD polled on the admin console, when each phase began, the
// forward streams' rows applied over time, and the final row once the job leaves 'running'.
import type pg from 'pg';

export type ReshardRow = Record<string, string | number | null>;

export interface PhaseSpan {
  readonly phase: string;
  readonly from: number;
  to: number;
}

export class ReshardWatch {
  readonly spans: PhaseSpan[] = [];
  last: ReshardRow | null = null;
  /** rows_streamed of the forward streams (phase cutover, before the switch) and when it was read. */
  readonly streamed: { at: number; rows: number }[] = [];

  constructor(
    private readonly admin: pg.Client,
    private readonly database: string,
  ) {}

  private async sample(): Promise<ReshardRow | null> {
    const { rows } = await this.admin.query('SHOW RESHARD');
    const row = (rows as ReshardRow[]).find((r) => r.database === this.database) ?? null;
    if (!row) return null;
    const now = Date.now();
    const phase = String(row.phase);
    let span = this.spans.at(-1);
    if (!span || span.phase !== phase) {
      if (span) span.to = now;
      span = { phase, from: now, to: now };
      this.spans.push(span);
    }
    span.to = now;
    if (phase === 'cutover' && row.status === 'running' && row.rows_streamed !== null)
      this.streamed.push({ at: now, rows: Number(row.rows_streamed) });
    this.last = row;
    return row;
  }

  /**
   * Polls until the job leaves 'running' (or `until` says so); throws at `deadline` naming the phase it was in.
   * `onRow` sees every sample (progress lines).
   */
  async untilSettled(
    deadline: number,
    onRow: (row: ReshardRow) => void,
    until: (row: ReshardRow) => boolean = (row) => row.status !== 'running',
  ): Promise<ReshardRow> {
    for (;;) {
      const row = await this.sample();
      if (row) onRow(row);
      if (row && until(row)) return row;
      if (Date.now() > deadline)
        throw new Error(`deadline passed with the reshard in phase ${row?.phase ?? 'unknown'}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
