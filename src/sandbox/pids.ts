// Process-id helpers for servers we did not fork ourselves (pg_ctl daemonises the postmaster).
import { readdirSync, readFileSync } from 'node:fs';

interface ProcStat {
  state: string;
  ppid: number;
  /** User plus system CPU time of the process (all its threads), in clock ticks. */
  cpuTicks: number;
}

function stat(pid: number): ProcStat | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may contain spaces and parentheses, so fields are counted after the last ')'.
    // After it: state (3), ppid (4), ..., utime (14), stime (15) in proc(5)'s numbering.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0], ppid: Number(fields[1]), cpuTicks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return null;
  }
}

/** CPU time (user + system, clock ticks) used so far by a process and its descendants; 0 for processes gone. */
export function treeCpuTicks(root: number): number {
  const stats = allStats();
  return treeOf(root, stats).reduce((sum, pid) => sum + (stats.get(pid)?.cpuTicks ?? 0), 0);
}

/** True while the process exists and is not a zombie (a container's init may never reap it). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const info = stat(pid);
  return info === null ? process.platform !== 'linux' : info.state !== 'Z';
}

/** The process and all its descendants, parents first; found before signalling because orphans get re-parented. */
export function processTree(root: number): number[] {
  return treeOf(root, allStats());
}

/** Every process's stat, read once; empty where /proc cannot be listed. */
function allStats(): Map<number, ProcStat> {
  const stats = new Map<number, ProcStat>();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return stats;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const info = stat(Number(entry));
    if (info) stats.set(Number(entry), info);
  }
  return stats;
}

/** The root and its descendants among `stats`, parents first. */
function treeOf(root: number, stats: Map<number, ProcStat>): number[] {
  const children = new Map<number, number[]>();
  for (const [pid, info] of stats) {
    const list = children.get(info.ppid) ?? [];
    list.push(pid);
    children.set(info.ppid, list);
  }
  const tree = [root];
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i]) ?? []));
  return tree;
}

/** Sends `signal` to a process and every descendant; returns the ids it signalled. */
export function killTree(root: number, signal: NodeJS.Signals): number[] {
  const tree = processTree(root);
  for (const pid of tree) {
    try {
      process.kill(pid, signal);
    } catch {
      // Already gone: nothing to do.
    }
  }
  return tree;
}

/** Blocks the thread while waiting; only for 'exit' handlers, where nothing asynchronous runs any more. */
export function waitForExitSync(pids: number[], timeoutMs: number): boolean {
  const pause = new Int32Array(new SharedArrayBuffer(4));
  const deadline = Date.now() + timeoutMs;
  while (pids.some(isAlive)) {
    if (Date.now() >= deadline) return false;
    Atomics.wait(pause, 0, 0, 20);
  }
  return true;
}
