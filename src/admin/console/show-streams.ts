// SHOW STREAMS: each change stream of this process, what it feeds, whether this instance consumes it, and its lag.
import { liveStreams } from '../../streams/live-streams.js';
import type { ConsoleCommand } from './console-command.js';
import { float, int, text } from './console-result.js';

export const showStreams: ConsoleCommand = {
  name: 'SHOW STREAMS',
  description:
    'one row per change stream: consumer (cache, publish), server, database, slot, consuming here, confirmed position, lag in bytes and seconds, changes queued in memory now and at most',
  run() {
    const rows = liveStreams().map((stream) => {
      const s = stream.status();
      return [
        stream.consumer,
        s.server,
        s.database,
        s.slot,
        s.consuming ? 1 : 0,
        s.confirmed ?? null,
        s.lagBytes ?? null,
        s.lagSeconds ?? null,
        s.queued ?? null,
        s.queuedPeak ?? null,
      ];
    });
    return {
      columns: [
        text('consumer'),
        text('server'),
        text('database'),
        text('slot'),
        int('consuming'),
        text('confirmed_lsn'),
        int('lag_bytes'),
        float('lag_seconds'),
        int('queued'),
        int('queued_peak'),
      ],
      rows,
      tag: 'SHOW',
    };
  },
};
