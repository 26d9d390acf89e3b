import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import { Worker } from 'node:worker_threads';
import { childrenOf, currentThreadId, lowerProcessTree, lowerThisThread } from './background-priority';

const linux = process.platform === 'linux';
const onLinux = linux ? it : it.skip;

/** The nice field (19th) of a /proc stat line. */
function niceOf(path: string): number {
  const stat = readFileSync(path, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
}

/** Runs `lowerThisThread(nice)` on a fresh worker thread; resolves with its outcome, tid and /proc nice. */
function inWorker(
  nice: number,
  preset?: number,
): Promise<{ outcome: unknown; tid: number; procNice: number }> {
  // Plain JS in the worker (ts-jest compiles only this thread's modules); the lowering is done from here, by tid.
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    const { readlinkSync, readFileSync } = require('node:fs');
    const { setPriority, getPriority } = require('node:os');
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (workerData.preset !== undefined) setPriority(tid, workerData.preset);
    parentPort.once('message', (outcome) => {
      const stat = readFileSync('/proc/thread-self/stat', 'utf8');
      const procNice = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
      parentPort.postMessage({ outcome, tid, procNice, prio: getPriority(tid) });
    });
    parentPort.postMessage({ ready: tid });
  `;
  return new Promise((resolve, reject) => {
    const worker = new Worker(code, { eval: true, workerData: { preset } });
    worker.on('error', reject);
    worker.on('message', (m: { ready?: number; outcome?: unknown; tid: number; procNice: number }) => {
      if (m.ready !== undefined) {
        // The function runs here but names the worker's thread: the same syscall the worker itself would make.
        worker.postMessage(lowerTid(m.ready, nice));
        return;
      }
      void worker.terminate();
      resolve({ outcome: m.outcome, tid: m.tid, procNice: m.procNice });
    });
  });
}

/** lowerProcessTree on a thread id is setpriority(PRIO_PROCESS, tid): on Linux that is the one thread. */
function lowerTid(tid: number, nice: number): unknown {
  return lowerProcessTree(tid, nice);
}

describe('background priority', () => {
  onLinux('knows the calling thread (the main thread of a process is its pid)', () => {
    expect(currentThreadId()).toBe(process.pid);
  });

  onLinux(
    'lowers one thread only: the worker is at the nice asked, the main thread is untouched',
    async () => {
      const mainBefore = niceOf(`/proc/${process.pid}/task/${process.pid}/stat`);
      const { outcome, tid, procNice } = await inWorker(7);
      expect(outcome).toEqual({ applied: true, ids: [tid], nice: 7 });
      expect(procNice).toBe(7);
      expect(niceOf(`/proc/${process.pid}/task/${process.pid}/stat`)).toBe(mainBefore);
    },
  );

  onLinux('never raises a priority: a thread already nicer keeps its level', async () => {
    const { procNice } = await inWorker(5, 12);
    expect(procNice).toBe(12);
  });

  it('does nothing at nice 0', () => {
    expect(lowerThisThread(0)).toEqual({ applied: false, reason: 'background_nice is 0' });
    expect(lowerProcessTree(process.pid, 0)).toEqual({ applied: false, reason: 'background_nice is 0' });
  });

  onLinux('lowers a process and the children it has; the test process is untouched', async () => {
    // sh with a child sleep: the tree the embedded PostgreSQL's postmaster and its backends form.
    const parent: ChildProcess = spawn('sh', ['-c', 'sleep 30 & wait'], { stdio: 'ignore' });
    try {
      let kids: number[] = [];
      for (let i = 0; i < 100 && kids.length === 0; i++) {
        await new Promise((r) => setTimeout(r, 20));
        kids = childrenOf(parent.pid!);
      }
      expect(kids).toHaveLength(1);
      const outcome = lowerProcessTree(parent.pid!, 9);
      expect(outcome).toEqual({ applied: true, ids: [parent.pid, kids[0]], nice: 9 });
      expect(getPriority(parent.pid!)).toBe(9);
      expect(getPriority(kids[0])).toBe(9);
      expect(getPriority(process.pid)).toBe(0);
    } finally {
      parent.kill('SIGKILL');
    }
  });

  it('reports a process that does not exist', () => {
    const outcome = lowerProcessTree(2 ** 22 + 12345, 5);
    expect(outcome).toMatchObject({ applied: false });
  });
});
