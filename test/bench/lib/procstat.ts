// CPU and memory of a process from /proc (Linux): the whole process, its main thread, and its descendants.
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc's utime/stime (USER_HZ; 100 on every Linux we run on). */
const TICKS = 100;

/** Parses utime+stime (seconds) from a /proc stat line; the command name may hold spaces and parentheses. */
export function parseStatCpu(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS;
}

export function parseStatPpid(stat: string): number {
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

/** CPU seconds (user + system) of the whole process, every thread. */
export function processCpu(pid: number): number {
  return parseStatCpu(readFileSync(`/proc/${pid}/stat`, 'utf8'));
}

/** CPU seconds of the process's main thread alone (the event loop of a Node process). */
export function mainThreadCpu(pid: number): number {
  return parseStatCpu(readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8'));
}

export interface CpuSample {
  process: number;
  mainThread: number;
}

export function sampleCpu(pid: number): CpuSample {
  return { process: processCpu(pid), mainThread: mainThreadCpu(pid) };
}

/** VmRSS in KiB from a /proc status text. */
export function parseRssKiB(status: string): number {
  return Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? NaN);
}

export function rssKiB(pid: number): number {
  try {
    return parseRssKiB(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return NaN;
  }
}

/** The pid and every descendant of it, from the ppid field of each /proc/N/stat. */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const ppid = parseStatPpid(readFileSync(`/proc/${name}/stat`, 'utf8'));
      children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
    } catch {
      // the process left while we looked
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    out.push(p);
    for (const c of children.get(p) ?? []) walk(c);
  };
  walk(pid);
  return out;
}

/**
 * On-CPU nanoseconds of every live thread of the process (schedstat's first field), 0 once it is gone. Finer than
 * stat's 10 ms ticks, so a 100 ms window tells idle from busy; a thread that exits takes its time with it.
 */
export function processRunNs(pid: number): number {
  let total = 0;
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return 0;
  }
  for (const tid of tids) {
    try {
      total += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // the thread left while we looked
    }
  }
  return total;
}

/**
 * Whether a process has gone idle, from cumulative CPU samples: idle once the newest `windowMs` of samples used
 * under `maxShare` of one core. A drop in the counter (a thread exited) counts as no use.
 */
export class IdleWindow {
  private readonly samples: Array<{ atMs: number; cpuNs: number }> = [];

  constructor(
    private readonly windowMs: number,
    private readonly maxShare: number,
  ) {}

  add(atMs: number, cpuNs: number): boolean {
    this.samples.push({ atMs, cpuNs });
    // Keep the newest sample at least windowMs old as the window's start.
    while (this.samples.length > 2 && this.samples[1].atMs <= atMs - this.windowMs) this.samples.shift();
    const first = this.samples[0];
    const spanMs = atMs - first.atMs;
    if (spanMs < this.windowMs) return false;
    return Math.max(0, cpuNs - first.cpuNs) / 1e6 / spanMs < this.maxShare;
  }
}

/** The postmaster listening on `port` (a PostgreSQL started with `-p PORT`, daemonized: not in our tree). */
export function postmasterOnPort(port: number): number | undefined {
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const argv = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
      const p = argv.indexOf('-p');
      if (argv[0].endsWith('/postgres') && p > 0 && argv[p + 1] === String(port)) return Number(name);
    } catch {
      // the process left while we looked
    }
  }
  return undefined;
}
