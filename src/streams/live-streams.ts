// The change streams running in this process, so the admin console (SHOW STREAMS) and lag metrics can list them.

export interface StreamStatus {
  readonly slot: string;
  readonly server: string;
  readonly database: string;
  /** This instance holds the stream's lock and reads it. */
  readonly consuming: boolean;
  /** Everything before this WAL position is done and confirmed to the server (`X/Y`). */
  readonly confirmed?: string;
  /** Received but not yet confirmed WAL, in bytes, up to the server's last reported WAL end. */
  readonly lagBytes?: number;
  /** Age of the oldest received commit not yet confirmed; 0 when all is confirmed. */
  readonly lagSeconds?: number;
  /** Changes received and not yet handled (held in memory, or sent and awaiting the brokers). */
  readonly queued?: number;
  /** The most changes queued at once since this instance started the stream. */
  readonly queuedPeak?: number;
}

export interface LiveStream {
  /** What the stream feeds, e.g. `cache` or `publish`. */
  readonly consumer: string;
  status(): StreamStatus;
}

const live = new Set<LiveStream>();

export function addLiveStream(stream: LiveStream): () => void {
  live.add(stream);
  return () => live.delete(stream);
}

export function liveStreams(): readonly LiveStream[] {
  return [...live];
}
