// The `/* polyproxy: cassandra ttl=60 timestamp=… if_not_exists */` directive: CQL write options SQL cannot say.
import cassandra from 'cassandra-driver';
import { pluginError } from './errors.js';

export interface WriteOptions {
  /** USING TTL: seconds until the written cells expire. */
  readonly ttl?: number;
  /** USING TIMESTAMP: the write's timestamp in microseconds since the epoch. */
  readonly timestamp?: bigint;
  /** INSERT ... IF NOT EXISTS (a lightweight transaction). */
  readonly ifNotExists: boolean;
}

const none: WriteOptions = { ifNotExists: false };

/** Reads the hint when it starts with `cassandra`; other hints (cache, routing) are not ours. */
export function writeOptions(hint: string | undefined): WriteOptions {
  const words = (hint ?? '')
    .trim()
    .split(/[\s,]+/)
    .filter(Boolean);
  if (words[0]?.toLowerCase() !== 'cassandra') return none;
  let options: WriteOptions = none;
  for (const word of words.slice(1)) {
    const [key, value = ''] = word.toLowerCase().split('=');
    if (key === 'ttl' && /^\d+$/.test(value) && Number(value) <= 630_720_000)
      options = { ...options, ttl: Number(value) };
    else if (key === 'timestamp' && /^\d+$/.test(value)) options = { ...options, timestamp: BigInt(value) };
    else if (key === 'if_not_exists' && !value) options = { ...options, ifNotExists: true };
    else
      throw pluginError(
        'syntaxError',
        `widecolumn plugin: unknown directive "${word}"`,
        'write /* polyproxy: cassandra ttl=<seconds> timestamp=<microseconds> if_not_exists */',
      );
  }
  return options;
}

/** ` USING TTL ? AND TIMESTAMP ?` and its values. */
export function usingCql(options: WriteOptions): { text: string; params: unknown[] } {
  const parts: string[] = [];
  const params: unknown[] = [];
  if (options.ttl !== undefined) {
    parts.push('TTL ?');
    params.push(options.ttl);
  }
  if (options.timestamp !== undefined) {
    parts.push('TIMESTAMP ?');
    params.push(cassandra.types.Long.fromString(options.timestamp.toString()));
  }
  return { text: parts.length ? ` USING ${parts.join(' AND ')}` : '', params };
}
