// Which host of a `role: auto` shard takes writes, decided from what the servers report, never from memory alone.
//
// A promotion starts a new timeline, and PostgreSQL never goes back to an older one: a writable host on a
// timeline older than the highest one seen (on any host, or in the epoch record the proxy keeps in the
// database) is a former primary that came back, and is never chosen. Two writable hosts on the same newest
// timeline cannot be told apart by the evidence, so writes are refused rather than guessed.

/** The record of each election, kept on the primary so it replicates to every replica and outlives restarts. */
export const epochTable = 'polyproxy.primary_epoch';

export interface EpochRecord {
  timeline: number;
  host: string;
}

/** What the last check of one host found; the election reads nothing else. */
export interface HostFacts {
  address: string;
  /** Answered its last check. */
  up: boolean;
  inRecovery: boolean | null;
  /** The timeline a primary writes, or the newest one a replica has reached; null when unknown. */
  timeline: number | null;
  /** The newest entry of the host's epoch table: what the proxy chose last, as far as this host knows. */
  recorded: EpochRecord | null;
  /** The host:port a replica streams WAL from, when it streams. */
  upstream: string | null;
}

export type Election =
  | { kind: 'elected'; address: string; timeline: number; floor: number }
  | { kind: 'none'; floor: number; why: string }
  | { kind: 'conflict'; floor: number; timeline: number; hosts: string[]; why: string };

/**
 * Elects the primary from the hosts' facts. `floor` is the highest timeline seen before (it only grows, so a
 * host that answers again after a freeze cannot bring an older timeline back); the result carries the new one.
 */
export function elect(hosts: HostFacts[], floor: number): Election {
  const up = hosts.filter((h) => h.up);
  let newest = floor;
  let recordedBy: EpochRecord | null = null;
  for (const h of up) {
    if (h.timeline !== null) newest = Math.max(newest, h.timeline);
    if (h.recorded && h.recorded.timeline > (recordedBy?.timeline ?? 0)) recordedBy = h.recorded;
  }
  if (recordedBy) newest = Math.max(newest, recordedBy.timeline);
  const writable = up.filter((h) => h.inRecovery === false);
  const current = writable.filter((h) => h.timeline !== null && h.timeline >= newest);
  if (current.length === 1)
    return { kind: 'elected', address: current[0].address, timeline: newest, floor: newest };
  if (current.length === 0)
    return { kind: 'none', floor: newest, why: noneWhy(writable, newest, recordedBy) };
  const claiming = current.map((h) => h.address);
  const why = conflictWhy(current, up, recordedBy);
  return { kind: 'conflict', floor: newest, timeline: newest, hosts: claiming, why };
}

function noneWhy(writable: HostFacts[], newest: number, recorded: EpochRecord | null): string {
  if (writable.length === 0) return 'no host accepts writes';
  const newestAt = recorded?.timeline === newest ? ` (where ${recorded.host} was chosen)` : '';
  const stale = writable.map((h) => `${h.address} is on timeline ${h.timeline ?? 'unknown'}`).join(', ');
  return `${stale}, older than timeline ${newest}${newestAt}`;
}

function conflictWhy(current: HostFacts[], up: HostFacts[], recorded: EpochRecord | null): string {
  const timeline = current[0].timeline;
  const named = current.map((h) => {
    const followers = up
      .filter((r) => r.inRecovery === true && r.upstream === h.address)
      .map((r) => r.address);
    return followers.length > 0
      ? `${h.address} (replicas streaming from it: ${followers.join(', ')})`
      : h.address;
  });
  const count = current.length === 2 ? 'two' : String(current.length);
  const last = recorded?.timeline === timeline ? `; the last recorded choice on it was ${recorded.host}` : '';
  return (
    `${count} hosts claim to be primary on timeline ${timeline}: ${named.join(' and ')}${last}; ` +
    'writes are refused until only one of them accepts writes'
  );
}

/** Parses the timeline out of a WAL file name (its first 8 hex digits) or a plain number. */
export function parseTimeline(text: string | null): number | null {
  if (text === null) return null;
  const n = /^[0-9A-F]{24}$/i.test(text) ? parseInt(text.slice(0, 8), 16) : Number(text);
  return Number.isInteger(n) && n > 0 ? n : null;
}
