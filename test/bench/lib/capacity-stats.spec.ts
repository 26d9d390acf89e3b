import { extractUsage } from '@spendops/usage';
import { captureAt, captureKinds, mixSchedule, MIX_SLOTS } from './capacity-captures';
import {
  capacityTable,
  cpuBoundRate,
  defaultInFlight,
  idleNote,
  libraryOf,
  parseCapacityArgs,
  parseStatCpuWithReaped,
  percentile,
  profileBreakdown,
  rates,
  selfTimeByLibrary,
  timeToReach,
  type CapacityResult,
} from './capacity-stats';

describe('progress series', () => {
  const series = [
    { t: 100, n: 0 },
    { t: 200, n: 40 },
    { t: 300, n: 100 },
    { t: 400, n: 100 },
  ];

  it('interpolates when a count was first reached, between the polls around it', () => {
    expect(timeToReach(series, 20)).toBe(150);
    expect(timeToReach(series, 40)).toBe(200);
    expect(timeToReach(series, 70)).toBe(250);
    expect(timeToReach(series, 100)).toBe(300);
    expect(timeToReach(series, 101)).toBeNaN();
    expect(timeToReach([], 1)).toBeNaN();
  });

  it('gives the whole run and its second half as separate rates', () => {
    // 100 events: the first 50 by 250 ms, the last 50 in the next 50 ms.
    const r = rates(series, 100);
    expect(r.seconds).toBeCloseTo(0.3);
    expect(r.eventsPerSecond).toBeCloseTo(100 / 0.3);
    expect(r.secondHalfEventsPerSecond).toBeCloseTo(50 / ((300 - 216.666666) / 1000), 0);
  });

  it('has no rate for a run that never finished', () => {
    const r = rates(series, 200);
    expect(r.eventsPerSecond).toBeNaN();
    expect(r.secondHalfEventsPerSecond).toBeNaN();
  });
});

describe('percentile', () => {
  it('takes the nearest rank of unsorted values', () => {
    const v = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentile(v, 0.5)).toBe(50);
    expect(percentile(v, 0.99)).toBe(99);
    expect(percentile(v, 1)).toBe(100);
    expect(percentile([7], 0.99)).toBe(7);
    expect(percentile([], 0.5)).toBeNaN();
  });
});

describe('command line', () => {
  it('reads the mode and the number of events', () => {
    expect(parseCapacityArgs(['--mode', 'both', '--events', '100000'])).toEqual({
      modes: ['all-in-one', 'distributed'],
      events: 100_000,
    });
    expect(parseCapacityArgs(['--mode', 'distributed'])).toEqual({ modes: ['distributed'], events: 20_000 });
    expect(parseCapacityArgs(['--profile', '/tmp/capacity-profiles']).profile).toBe('/tmp/capacity-profiles');
    expect(parseCapacityArgs(['--in-flight', '2000', '--postgres', 'embedded'])).toMatchObject({
      maxInFlight: 2000,
      postgres: 'embedded',
    });
  });

  it('refuses an unknown mode or a bad count', () => {
    expect(() => parseCapacityArgs(['--mode', 'proxy'])).toThrow(/--mode/);
    expect(() => parseCapacityArgs(['--events', '1.5'])).toThrow(/--events/);
    expect(() => parseCapacityArgs(['--events'])).toThrow(/needs a value/);
    expect(() => parseCapacityArgs(['--in-flight', '0'])).toThrow(/--in-flight/);
    expect(() => parseCapacityArgs(['--postgres', 'sqlite'])).toThrow(/--postgres/);
  });
});

describe('table', () => {
  const result: CapacityResult = {
    mode: 'all-in-one',
    events: 20_000,
    queryable: 20_000,
    seconds: 8.04,
    eventsPerSecond: 2487.6,
    secondHalfEventsPerSecond: 2600.2,
    publishPerSecond: 3000,
    cpuUsPerEvent: 412.3,
    postgresCpuUsPerEvent: 150,
    brokerCpuUsPerEvent: NaN,
    cpuBoundEventsPerSecond: 3565.4,
    queryableP50Ms: 1200,
    queryableP99Ms: 3900.4,
    sampled: 200,
    errors: [],
    loadAvg: [1.5, 2.25],
    commit: 'abc1234',
  };

  it('prints one row per mode, n/a for what was not measured', () => {
    const lines = capacityTable([
      result,
      { ...result, mode: 'distributed', errors: ['3 dead-lettered'] },
    ]).split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[2]).toBe(
      '| all-in-one | 20000 | 20000 | 8.0 | 2488 | 2600 | 3000 | 412 | 150 | n/a | 3565 | 1200 / 3900 (200) | 1.50 / 2.25 | none |',
    );
    expect(lines[3]).toMatch(/^\| distributed .*\| 3 dead-lettered \|$/);
  });

  it('notes the idle CPU of each mode that has it', () => {
    expect(idleNote([])).toMatch(/: n\/a$/);
    const note = idleNote([
      { ...result, idleCores: { pipeline: 0.021, postgres: 0.004, broker: NaN } },
      { ...result, mode: 'distributed' },
    ]);
    expect(note).toMatch(/: all-in-one: pipeline 2\.1 %, postgres 0\.4 %, broker n\/a$/);
  });
});

describe('process CPU', () => {
  it('adds the reaped children to the process itself, whatever its name holds', () => {
    // utime 150, stime 50, cutime 300, cstime 100 (ticks).
    const stat = '42 (postgres: a) b) S 1 42 42 0 -1 4194560 100 0 0 0 150 50 300 100 20 0 1 0 5 1000 50';
    expect(parseStatCpuWithReaped(stat)).toBe(6);
  });
});

describe('CPU-bound rate', () => {
  it('divides the cores by the CPU per event, leaving out what was not measured', () => {
    expect(cpuBoundRate(2, 300, 100, 100)).toBe(4000);
    expect(cpuBoundRate(2, 300, 100, NaN)).toBe(5000);
    expect(cpuBoundRate(2, NaN)).toBeNaN();
  });
});

describe('in-flight window', () => {
  it('is a tenth of the run, within 1,000..10,000', () => {
    expect(defaultInFlight(20_000)).toBe(2_000);
    expect(defaultInFlight(100_000)).toBe(10_000);
    expect(defaultInFlight(1_000_000)).toBe(10_000);
    expect(defaultInFlight(5_000)).toBe(1_000);
  });
});

describe('profile grouping', () => {
  it('names the library or part of the code of a frame', () => {
    expect(libraryOf('file:///work/main/node_modules/pg/lib/client.js', 'query')).toBe('node_modules/pg');
    expect(libraryOf('file:///w/node_modules/@nestjs/core/injector.js', 'f')).toBe(
      'node_modules/@nestjs/core',
    );
    expect(libraryOf('file:///w/dist/apps/ledger/src/ledger.service.js', 'f')).toBe('apps/ledger');
    expect(libraryOf('file:///w/dist/libs/usage/src/json/scan.js', 'f')).toBe('libs/usage');
    expect(libraryOf('node:internal/streams/readable', 'f')).toBe('node:internal');
    expect(libraryOf('', '(garbage collector)')).toBe('(garbage collector)');
    expect(libraryOf('', 'JSONParse')).toBe('(native)');
    expect(libraryOf('file:///w/dist/test/bench/pipeline-capacity.js', 'f')).toBe('test (bench driver)');
  });

  it('shares busy self time between libraries, idle left out', () => {
    const frame = (url: string, functionName = 'f') => ({ url, functionName, lineNumber: 0 });
    const groups = selfTimeByLibrary([
      { frame: frame('', '(idle)'), hits: 1000 },
      { frame: frame('file:///w/node_modules/pg/a.js'), hits: 30 },
      { frame: frame('file:///w/node_modules/pg/b.js'), hits: 30 },
      { frame: frame('file:///w/dist/apps/extraction/src/x.js'), hits: 40 },
    ]);
    expect(groups).toEqual([
      { library: 'node_modules/pg', selfPct: 60 },
      { library: 'apps/extraction', selfPct: 40 },
    ]);
  });
});

describe('profile breakdown', () => {
  const frame = (functionName: string, url = '') => ({ functionName, url, lineNumber: 0 });
  // (root) → append (event-store) → query (pg); (root) → (idle).
  const profile = {
    nodes: [
      { id: 1, callFrame: frame('(root)'), children: [2, 4] },
      { id: 2, callFrame: frame('append', 'file:///w/dist/libs/event-store/src/e.js'), children: [3] },
      { id: 3, callFrame: frame('query', 'file:///w/node_modules/pg/lib/client.js') },
      { id: 4, callFrame: frame('(idle)') },
    ],
    startTime: 1_000,
    samples: [3, 3, 2, 4, 3],
    timeDeltas: [10, 10, 10, 10, 10],
  };

  it('gives self time to the leaf and inclusive time to every library on the stack', () => {
    const b = profileBreakdown(profile);
    expect(b.samples).toBe(5);
    expect(b.busyPct).toBe(80);
    expect(b.self).toEqual([
      { library: 'node_modules/pg', selfPct: 75 },
      { library: 'libs/event-store', selfPct: 25 },
    ]);
    expect(b.inclusive).toEqual([
      { library: 'libs/event-store', pct: 100 },
      { library: 'node_modules/pg', pct: 75 },
    ]);
  });

  it('counts only the samples inside the window', () => {
    // Sample times: 1010, 1020, 1030, 1040, 1050.
    const b = profileBreakdown(profile, { fromUs: 1_025, toUs: 1_045 });
    expect(b.samples).toBe(2);
    expect(b.busyPct).toBe(50);
    expect(b.self).toEqual([{ library: 'libs/event-store', selfPct: 100 }]);
  });
});

describe('capture mix', () => {
  const kinds = captureKinds();

  it('gives each kind its weight in every MIX_SLOTS records, interleaved', () => {
    const schedule = mixSchedule(kinds);
    expect(schedule).toHaveLength(MIX_SLOTS);
    kinds.forEach((k, i) => expect(schedule.filter((s) => s === i)).toHaveLength(k.weight));
    // No kind arrives as one run of its whole weight (the OpenAI JSON kind has 5 of 20).
    expect(schedule.slice(0, 5).every((s) => s === schedule[0])).toBe(false);
  });

  it('builds records that extraction reads as provider usage, each with its own request id', () => {
    const schedule = mixSchedule(kinds);
    const records = Array.from({ length: MIX_SLOTS }, (_, i) => captureAt(kinds, schedule, i, 1_000_000));
    expect(new Set(records.map((r) => r.request_id)).size).toBe(MIX_SLOTS);
    for (const r of records) {
      const usage = extractUsage(r);
      expect(usage.usage_source).toBe('provider');
      expect(usage.total_tokens).toBeGreaterThan(0);
      expect(r.ended_at_ms).toBe(1_000_000);
    }
    expect(new Set(records.map((r) => r.provider))).toEqual(new Set(['openai', 'anthropic', 'google']));
    expect(records.some((r) => r.content_encoding === 'gzip')).toBe(true);
  });
});
