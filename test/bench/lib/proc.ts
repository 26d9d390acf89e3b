// Child processes the bench starts: spawned (optionally under taskset), waited for, pinned, stopped.
import { ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { processTree } from './procstat';

export const exec = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Proc {
  child: ChildProcess;
  pid: number;
  output(): string;
  /** SIGTERM, then SIGKILL after graceMs (default 5 s). */
  stop(graceMs?: number): Promise<void>;
}

export function onPath(bin: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(':'))
    if (existsSync(`${dir}/${bin}`)) return `${dir}/${bin}`;
  return null;
}

/** Spawns argv, under `taskset -c CPU` when a core is given; stdout+stderr kept (the tail) for error reports. */
export function startProc(
  argv: string[],
  opts: { cpu?: string; cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Proc {
  const full = opts.cpu ? ['taskset', '-c', opts.cpu, ...argv] : argv;
  const child = spawn(full[0], full.slice(1), {
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (b: Buffer) => (out = (out + b.toString()).slice(-8000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    child,
    pid: child.pid!,
    output: () => out,
    async stop(graceMs = 5_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(graceMs)]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Resolves the first match of `re` on the process's output. */
export async function waitOutput(p: Proc, re: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const m = re.exec(p.output());
    if (m) return m;
    if (p.child.exitCode !== null) throw new Error(`exited ${p.child.exitCode}: ${tail(p.output())}`);
    if (Date.now() > deadline) throw new Error(`not ready in ${timeoutMs} ms: ${tail(p.output())}`);
    await sleep(50);
  }
}

/** Polls url until it answers any HTTP status. */
export async function waitHttp(url: string, timeoutMs: number, p?: Proc): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await fetch(url, { signal: AbortSignal.timeout(1000) });
      return;
    } catch {
      if (p && p.child.exitCode !== null) throw new Error(`exited ${p.child.exitCode}: ${tail(p.output())}`);
      if (Date.now() > deadline)
        throw new Error(`no answer on ${url} in ${timeoutMs} ms${p ? `: ${tail(p.output())}` : ''}`);
      await sleep(50);
    }
  }
}

export function tail(s: string, n = 300): string {
  const t = s.trim().replace(/\s*\n\s*/g, ' / ');
  return t.length > n ? `...${t.slice(-n)}` : t;
}

/** Moves a process and all its descendants (every thread) onto the given cores; false if taskset failed. */
export async function pinTree(pid: number, cpus: string): Promise<boolean> {
  try {
    for (const p of processTree(pid)) await exec('taskset', ['-a', '-cp', cpus, String(p)]);
    return true;
  } catch {
    return false;
  }
}

/** Moves this process (every thread, not its children) onto the given cores. */
export async function pinSelf(cpus: string): Promise<boolean> {
  try {
    await exec('taskset', ['-a', '-cp', cpus, String(process.pid)]);
    return true;
  } catch {
    return false;
  }
}

// A port the kernel says is free (a random pick in 20000-40000 collided with the machine's ephemeral ports).
export { freePort } from '@spendops/testing';
