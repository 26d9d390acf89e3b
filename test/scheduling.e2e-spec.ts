// The all-in-one server puts the work that can wait below the request path: its pipeline thread and its embedded
// PostgreSQL run at `scheduling.background_nice` (default 10), the main thread (the proxy) stays at 0. Read back
// from /proc of the real processes. Linux only (per-thread nice is a Linux property).
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SpendOpsProcess, startSpendOps } from './support/spendops-process';

jest.setTimeout(120_000);

const describeLinux = process.platform === 'linux' ? describe : describe.skip;

function statFields(path: string): string[] {
  const stat = readFileSync(path, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** Nice level per thread of a process, the main thread first. */
function threadNices(pid: number): Array<{ tid: number; nice: number }> {
  return readdirSync(`/proc/${pid}/task`)
    .map(Number)
    .sort((a, b) => (a === pid ? -1 : b === pid ? 1 : a - b))
    .map((tid) => ({ tid, nice: Number(statFields(`/proc/${pid}/task/${tid}/stat`)[16]) }));
}

/** Nice levels of the embedded postmaster of `dataDir` and of every process it forked. */
function postgresNices(dataDir: string): number[] {
  const postmaster = Number(readFileSync(join(dataDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]);
  const out = [Number(statFields(`/proc/${postmaster}/stat`)[16])];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const f = statFields(`/proc/${name}/stat`);
      if (Number(f[1]) === postmaster) out.push(Number(f[16]));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

describeLinux('background priority of the all-in-one server', () => {
  let server: SpendOpsProcess | null = null;

  afterEach(async () => {
    await server?.dispose();
    server = null;
  });

  it('runs the pipeline thread and the embedded PostgreSQL at nice 10, the proxy thread at 0', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'spendops-nice-'));
    server = await startSpendOps(['--addr', '127.0.0.1:0', '--data-dir', dataDir], {
      SPENDOPS_LOG_LEVEL: 'info',
    });
    const threads = threadNices(server.child.pid!);
    expect(threads[0]).toEqual({ tid: server.child.pid, nice: 0 });
    // Exactly one thread lowered: the pipeline worker (Node's other threads, V8's and libuv's, are untouched).
    const lowered = threads.filter((t) => t.nice !== 0);
    expect(lowered).toHaveLength(1);
    expect(lowered[0].nice).toBe(10);
    expect(server.output()).toContain(`"tid":${lowered[0].tid}`);
    const pg = postgresNices(dataDir);
    expect(pg.length).toBeGreaterThan(3);
    expect(pg.every((n) => n === 10)).toBe(true);
  });

  it('leaves every priority alone at SPENDOPS_BACKGROUND_NICE=0', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'spendops-nice0-'));
    server = await startSpendOps(['--addr', '127.0.0.1:0', '--data-dir', dataDir], {
      SPENDOPS_BACKGROUND_NICE: '0',
    });
    expect(threadNices(server.child.pid!).every((t) => t.nice === 0)).toBe(true);
    expect(postgresNices(dataDir).every((n) => n === 0)).toBe(true);
  });

  it('refuses a nice level out of range, naming the setting', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'spendops-nice-bad-'));
    await expect(
      startSpendOps(['--addr', '127.0.0.1:0', '--data-dir', dataDir], { SPENDOPS_BACKGROUND_NICE: '25' }),
    ).rejects.toThrow(/scheduling\.background_nice: must be 0 \(off\) to 19/);
  });
});
