// Work that can wait (the pipeline thread, the embedded PostgreSQL) runs at a higher nice level than the proxy's
// request path, so that when they share a core the request path goes first and the pipeline catches up in the
// slack. Linux only: setpriority(PRIO_PROCESS, tid) there applies to the one thread named, which is what lets the
// pipeline worker lower itself without touching the main thread. Raising one's own nice needs no privilege.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

export type PriorityOutcome =
  { applied: true; ids: number[]; nice: number } | { applied: false; reason: string };

/** The kernel id of the calling thread (Linux: /proc/thread-self links to /proc/<pid>/task/<tid>). */
export function currentThreadId(): number | null {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    return Number.isInteger(tid) && tid > 0 ? tid : null;
  } catch {
    return null;
  }
}

/** Lowers the calling thread to `nice` (never raises it: a nicer level set from outside is kept). */
export function lowerThisThread(nice: number): PriorityOutcome {
  if (nice <= 0) return { applied: false, reason: 'background_nice is 0' };
  const tid = currentThreadId();
  if (tid === null) return { applied: false, reason: 'no per-thread priority on this platform' };
  return lower([tid], nice);
}

/** Lowers a process and its current children to `nice` (those forked later inherit it from the parent). */
export function lowerProcessTree(pid: number, nice: number): PriorityOutcome {
  if (nice <= 0) return { applied: false, reason: 'background_nice is 0' };
  return lower([pid, ...childrenOf(pid)], nice);
}

function lower(ids: number[], nice: number): PriorityOutcome {
  const done: number[] = [];
  for (const id of ids) {
    try {
      if (getPriority(id) < nice) setPriority(id, nice);
      done.push(id);
    } catch (err) {
      // A child that exited meanwhile is no loss; a refusal of the first id (the target itself) is reported.
      if (id === ids[0]) return { applied: false, reason: (err as Error).message };
    }
  }
  return { applied: true, ids: done, nice };
}

/** Direct children, from the ppid field of /proc/<n>/stat (empty where /proc is missing). */
export function childrenOf(pid: number): number[] {
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(name));
    } catch {
      // the process left while we looked
    }
  }
  return out;
}
