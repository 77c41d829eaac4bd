// Process-id helpers for servers we did not fork ourselves (pg_ctl daemonises the postmaster).
import { readdirSync, readFileSync } from 'node:fs';

function stat(pid: number): { state: string; ppid: number } | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may contain spaces and parentheses, so fields are counted after the last ')'.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0], ppid: Number(fields[1]) };
  } catch {
    return null;
  }
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
  const children = new Map<number, number[]>();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [root];
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const info = stat(Number(entry));
    if (!info) continue;
    const list = children.get(info.ppid) ?? [];
    list.push(Number(entry));
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
