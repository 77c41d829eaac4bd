// What the proxy tells the metrics at scrape time: clients, pools and servers, read from live objects.

export interface HostMetrics {
  database: string;
  server: string;
  role: string;
  healthy: boolean;
  lagMs: number | null;
}

export interface PoolStats {
  acquired: number;
  waited: number;
  timeouts: number;
  created: number;
  closed: number;
  waitMsTotal: number;
}

export interface PoolMetrics {
  database: string;
  server: string;
  active: number;
  idle: number;
  waiting: number;
  /** The pool's size limit. */
  size: number;
  paused: boolean;
  stats: PoolStats;
}

export interface MetricsSource {
  /** Open client sessions per database (admin console clients excluded). */
  clients(): { database: string; count: number }[];
  hosts(): HostMetrics[];
  /** Routing decisions since start: database, role, reason, count. */
  routes(): { database: string; role: string; reason: string; count: number }[];
  pools(): PoolMetrics[];
  /** Read-your-writes scopes tracked per database, and whether positions are shared through Redis (null: not configured). */
  readYourWrites(): { database: string; scopes: number; sharedUp: boolean | null }[];
}
