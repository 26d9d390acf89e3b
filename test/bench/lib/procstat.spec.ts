import {
  IdleWindow,
  mainThreadCpu,
  parseRssKiB,
  parseStatCpu,
  parseStatPpid,
  processCpu,
  processRunNs,
  processTree,
  rssKiB,
} from './procstat';
import { shortUrl, topSelfTime } from './profile';

describe('/proc parsing', () => {
  // utime 250 and stime 50 ticks; the command name has a space and a parenthesis.
  const stat = '4242 (node (x) y) S 17 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 11 0 123 456 789';

  it('reads user+system CPU and the parent from a stat line', () => {
    expect(parseStatCpu(stat)).toBeCloseTo(3.0);
    expect(parseStatPpid(stat)).toBe(17);
  });

  it('reads VmRSS from a status text', () => {
    expect(parseRssKiB('Name:\tnode\nVmRSS:\t   51234 kB\nVmSwap:\t0 kB\n')).toBe(51234);
    expect(parseRssKiB('Name:\tkthread\n')).toBeNaN();
  });

  it('reads this process: whole-process CPU is at least the main thread, RSS positive, in its own tree', () => {
    let x = 0;
    for (let i = 0; i < 2e6; i++) x += i;
    expect(x).toBeGreaterThan(0);
    expect(processCpu(process.pid)).toBeGreaterThanOrEqual(mainThreadCpu(process.pid));
    expect(rssKiB(process.pid)).toBeGreaterThan(1000);
    expect(processTree(process.pid)[0]).toBe(process.pid);
    expect(processTree(process.ppid)).toContain(process.pid);
  });
});

describe('idle detection', () => {
  it('reads the on-CPU nanoseconds of every thread of this process, growing with work; 0 for a gone pid', () => {
    const before = processRunNs(process.pid);
    let x = 0;
    for (let i = 0; i < 2e6; i++) x += i;
    expect(x).toBeGreaterThan(0);
    expect(processRunNs(process.pid)).toBeGreaterThan(before);
    expect(processRunNs(2 ** 30)).toBe(0);
  });

  it('is idle once a whole window used under the share of one core, not before the window is full', () => {
    const w = new IdleWindow(100, 0.2);
    expect(w.add(0, 0)).toBe(false);
    expect(w.add(50, 1e6)).toBe(false); // half a window only
    expect(w.add(100, 2e6)).toBe(true); // 2 ms over 100 ms = 2%
  });

  it('stays busy while the window holds more than the share, then turns idle when the burst leaves it', () => {
    const w = new IdleWindow(100, 0.2);
    w.add(0, 0);
    w.add(50, 50e6); // a pipeline draining: a full core
    expect(w.add(100, 100e6)).toBe(false);
    expect(w.add(150, 101e6)).toBe(false); // 51 ms over the last 100 ms
    expect(w.add(200, 102e6)).toBe(true); // 2 ms over the last 100 ms
  });

  it('counts a drop of the counter (a thread exited) as no use', () => {
    const w = new IdleWindow(100, 0.2);
    w.add(0, 500e6);
    expect(w.add(100, 400e6)).toBe(true);
  });
});

describe('cpu profile summary', () => {
  it('sums self time per function from the samples, top first', () => {
    const frame = (functionName: string, url: string, lineNumber: number) => ({
      functionName,
      url,
      lineNumber,
    });
    const top = topSelfTime({
      nodes: [
        { id: 1, callFrame: frame('(root)', '', -1) },
        { id: 2, callFrame: frame('relay', 'file:///work/main/dist/apps/proxy/src/proxy.handler.js', 9) },
        { id: 3, callFrame: frame('relay', 'file:///work/main/dist/apps/proxy/src/proxy.handler.js', 9) },
        { id: 4, callFrame: frame('', 'file:///work/main/node_modules/undici/lib/x.js', 0) },
      ],
      samples: [2, 3, 3, 4, 1, 2, 4, 2],
    });
    expect(top[0]).toEqual({ fn: 'relay', where: 'dist/apps/proxy/src/proxy.handler.js:10', selfPct: 62.5 });
    expect(top[1]).toEqual({ fn: '(anonymous)', where: 'node_modules/undici/lib/x.js:1', selfPct: 25 });
    expect(top[2]).toEqual({ fn: '(root)', where: '', selfPct: 12.5 });
  });

  it('shortens file URLs to the repository part', () => {
    expect(shortUrl('file:///a/b/node_modules/undici/index.js')).toBe('node_modules/undici/index.js');
    expect(shortUrl('file:///work/main/dist/libs/x.js')).toBe('dist/libs/x.js');
    expect(shortUrl('node:internal/streams')).toBe('node:internal/streams');
  });
});

describe('cpu profile window', () => {
  it('keeps only the samples inside the window, as shares of the busy ones', () => {
    const frame = (functionName: string) => ({ functionName, url: '', lineNumber: 0 });
    const profile = {
      nodes: [
        { id: 1, callFrame: frame('(idle)') },
        { id: 2, callFrame: frame('startup') },
        { id: 3, callFrame: frame('relay') },
        { id: 4, callFrame: frame('parse') },
      ],
      startTime: 1_000,
      // sample times: 1010, 1020 (start-up), then 2010, 2020, 2030, 2040 (the load)
      samples: [2, 2, 3, 1, 3, 4],
      timeDeltas: [10, 10, 990, 10, 10, 10],
    };
    expect(topSelfTime(profile, 5, { fromUs: 2_000, toUs: 3_000 })).toEqual([
      { fn: 'relay', where: '', selfPct: (2 / 3) * 100 },
      { fn: 'parse', where: '', selfPct: (1 / 3) * 100 },
    ]);
    expect(topSelfTime(profile, 5)[0]).toEqual({ fn: 'startup', where: '', selfPct: 40 });
  });
});
