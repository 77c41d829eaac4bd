// Read-your-writes positions shared by every proxy instance of a database through Redis publish/subscribe.
//
// Each instance publishes the position of a scope's write as soon as it learns it, and keeps what the
// others publish in its own WritePositions: a read never waits for Redis. When Redis is unreachable the
// instance goes on with its own positions (a read that crossed instances may then miss a write, as with
// scope `connection`), and says so in a metric.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import type { WritePositions } from './write-positions.js';

interface Announcement {
  /** The instance that learnt the position: its own messages come back and are skipped. */
  from: string;
  key: string;
  lsn: string;
}

export class SharedWritePositions {
  private readonly instance = randomUUID();
  private readonly channel: string;
  private readonly publisher: Redis;
  private readonly subscriber: Redis;
  /** The subscription is live: positions published by other instances arrive. */
  up = false;

  constructor(
    url: string,
    database: string,
    private readonly positions: WritePositions,
    private readonly log: Logger,
  ) {
    this.channel = `polyproxy:read-your-writes:${database}`;
    // Never queue commands while Redis is away: a position published late is worse than one not published.
    const options = { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0 } as const;
    this.publisher = new Redis(url, options);
    this.subscriber = new Redis(url, { ...options, enableOfflineQueue: true });
    for (const client of [this.publisher, this.subscriber]) client.on('error', () => {});
    this.subscriber.on('message', (_channel: string, text: string) => this.receive(text));
    // Up only once the subscription is in place: a position published before would be missed.
    this.subscriber.on('ready', () => {
      this.subscriber.subscribe(this.channel).then(
        () => this.markUp(true),
        () => {},
      );
    });
    this.subscriber.on('close', () => this.markUp(false));
  }

  async start(): Promise<void> {
    try {
      await Promise.all([this.publisher.connect(), this.subscriber.connect()]);
    } catch (err) {
      this.log.warn('read-your-writes: Redis unreachable; positions stay per instance until it answers', {
        error: err instanceof Error ? err.message : String(err),
      });
    }
  }

  /** Tells the other instances a scope's position (fire and forget). */
  publish(key: string, lsn: bigint): void {
    if (this.publisher.status !== 'ready') return;
    const message: Announcement = { from: this.instance, key, lsn: lsn.toString() };
    this.publisher.publish(this.channel, JSON.stringify(message)).catch(() => {});
  }

  /** Publishes a position and resolves once Redis took it (subscribers then have it), or after waitMs. */
  async publishNow(key: string, lsn: bigint, waitMs: number): Promise<void> {
    if (this.publisher.status !== 'ready') return;
    const message: Announcement = { from: this.instance, key, lsn: lsn.toString() };
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), waitMs)));
    const sent = this.publisher.publish(this.channel, JSON.stringify(message)).then(
      () => true,
      () => true,
    );
    const inTime = await Promise.race([sent, late]);
    clearTimeout(timer);
    if (!inTime)
      this.log.warn('read-your-writes: Redis took longer than the wait to take a position', { waitMs });
  }

  stop(): void {
    this.publisher.disconnect();
    this.subscriber.disconnect();
  }

  private receive(text: string): void {
    try {
      const m = JSON.parse(text) as Announcement;
      if (m.from === this.instance || typeof m.key !== 'string' || !/^\d+$/.test(m.lsn)) return;
      this.positions.note(m.key, BigInt(m.lsn));
    } catch {
      // Not ours: another program on the channel.
    }
  }

  private markUp(up: boolean): void {
    if (up === this.up) return;
    this.up = up;
    this.log[up ? 'info' : 'warn'](
      up
        ? 'read-your-writes: sharing positions through Redis'
        : 'read-your-writes: Redis lost; positions stay per instance until it is back',
    );
  }
}
