// Change stream lag per stream and consumer, read from the streams of this process at scrape time.
import client from 'prom-client';
import { liveStreams, type StreamStatus } from '../streams/live-streams.js';

export function registerStreamMetrics(registry: client.Registry): void {
  const gauge = (name: string, help: string, value: (s: StreamStatus) => number | undefined) =>
    new client.Gauge({
      name,
      help,
      labelNames: ['consumer', 'server', 'database', 'slot'],
      registers: [registry],
      collect() {
        this.reset();
        for (const stream of liveStreams()) {
          const status = stream.status();
          const v = value(status);
          if (v !== undefined)
            this.set(
              {
                consumer: stream.consumer,
                server: status.server,
                database: status.database,
                slot: status.slot,
              },
              v,
            );
        }
      },
    });
  gauge(
    'polyproxy_stream_lag_bytes',
    'WAL received from the primary but not yet confirmed (handled) by this instance',
    (s) => s.lagBytes,
  );
  gauge(
    'polyproxy_stream_lag_seconds',
    'Age of the oldest received commit this instance has not yet confirmed; 0 when caught up',
    (s) => s.lagSeconds,
  );
  gauge(
    'polyproxy_stream_queued_changes',
    'Changes received from the stream and not yet handled (for publishing: not yet confirmed by the brokers)',
    (s) => s.queued,
  );
  gauge(
    'polyproxy_stream_consuming',
    '1 while this instance consumes the stream (one instance at a time)',
    (s) => (s.consuming ? 1 : 0),
  );
}
