// What the admin console reads and acts on: the live proxy, handed over by the composition root.
import type { Registry } from 'prom-client';
import type { Database } from '../../backend/database.js';
import type { Config } from '../../config/schema.js';
import type { ClientSession } from '../../frontend/client-session.js';
import type { ClientPeer } from '../../frontend/listener.js';

export interface ConsoleSource {
  config(): Config;
  databases(): ReadonlyMap<string, Database>;
  sessions(): Iterable<ClientSession>;
  peer(pid: number): ClientPeer | undefined;
  registry: Registry;
  /** Re-reads the config file and applies it; throws with the reason when there is no file or it is invalid. */
  reload(): Promise<void>;
}
