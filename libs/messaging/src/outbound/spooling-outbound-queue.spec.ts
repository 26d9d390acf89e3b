import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JsonLogger, metricsRegistry } from '@spendops/observability';
import { Envelope } from '../bus';
import { sleep, waitFor } from '../bus.contract-suite';
import { serializationProblem, SpoolingOutboundQueue } from './spooling-outbound-queue';
import { SwitchableBus } from './switchable-bus';

JsonLogger.setLevel('error');

async function metric(name: string): Promise<number> {
  const json = await metricsRegistry.getSingleMetric(name)!.get();
  return json.values.reduce((sum, v) => sum + v.value, 0);
}

describe('SpoolingOutboundQueue', () => {
  let dir: string;
  let bus: SwitchableBus;
  let received: Envelope<{ n: number }>[];
  const queues: SpoolingOutboundQueue[] = [];

  function newQueue(queueSize = 100, batch = 10, spoolDir = dir): SpoolingOutboundQueue {
    const q = new SpoolingOutboundQueue(bus, spoolDir, queueSize, batch, { retryMs: 20, segmentBytes: 1024 });
    queues.push(q);
    return q;
  }
  const segments = (): string[] => readdirSync(dir).filter((n) => n.endsWith('.jsonl'));
  const ns = (): number[] => received.map((e) => e.payload.n);

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'spendops-spool-'));
    bus = new SwitchableBus();
    received = [];
    await bus.subscribe<{ n: number }>('sink', ['usage.#'], async (_p, e) => void received.push(e), {
      prefetch: 1,
    });
  });
  afterEach(async () => {
    for (const q of queues.splice(0)) await q.close(100);
    await bus.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('publishes in order without blocking the caller, with the given message ids', async () => {
    const q = newQueue();
    for (let n = 0; n < 25; n++) q.enqueue('usage.captured.v1', { n }, `id-${n}`);
    expect(received).toHaveLength(0); // enqueue never waits for the bus
    await q.drain();
    await waitFor(() => received.length === 25);
    expect(ns()).toEqual([...Array(25).keys()]);
    expect(received[3].id).toBe('id-3');
    expect(segments()).toEqual([]);
  });

  it('spools while the bus is away and replays everything in order when it is back', async () => {
    const spooledBefore = await metric('spendops_outbound_spooled_total');
    const replayedBefore = await metric('spendops_outbound_replayed_total');
    const q = newQueue();
    bus.down = true;
    for (let wave = 0; wave < 5; wave++) {
      for (let n = wave * 20; n < wave * 20 + 20; n++) q.enqueue('usage.captured.v1', { n });
      await waitFor(() => q.pending.spooled === wave * 20 + 20 && q.pending.queued === 0, 5_000, 'spooled');
    }
    expect(segments().length).toBeGreaterThan(1); // 1 KiB segments rotate
    await sleep(100); // a few failed replay attempts
    expect(received).toHaveLength(0);
    bus.down = false;
    await waitFor(() => received.length === 100, 5_000, 'replayed');
    expect(ns()).toEqual([...Array(100).keys()]);
    expect(new Set(received.map((e) => e.id)).size).toBe(100);
    await waitFor(() => segments().length === 0, 2_000, 'segments removed');
    expect(q.pending).toEqual({ queued: 0, spooled: 0 });
    expect((await metric('spendops_outbound_spooled_total')) - spooledBefore).toBe(100);
    expect((await metric('spendops_outbound_replayed_total')) - replayedBefore).toBe(100);
  });

  it.each([
    ['no overflow', 1_000],
    ['overflowing', 20],
  ])(
    'concurrent producers while the bus flaps (%s): every message published exactly once',
    async (_, size) => {
      const q = newQueue(size, 7);
      let flapping = true;
      const flapper = (async () => {
        while (flapping) {
          bus.down = !bus.down;
          await sleep(7);
        }
        bus.down = false;
      })();
      const producers = [...Array(8).keys()].map(async (p) => {
        for (let n = 0; n < 100; n++) {
          q.enqueue('usage.captured.v1', { n: p * 1000 + n }, `p${p}-${n}`);
          if (n % 10 === 0) await sleep(1);
        }
      });
      await Promise.all(producers);
      flapping = false;
      await flapper;
      await q.drain(10_000);
      await waitFor(() => received.length >= 800, 10_000, 'all delivered');
      await sleep(50);
      expect(received).toHaveLength(800);
      expect(new Set(received.map((e) => e.id)).size).toBe(800);
      expect(q.pending).toEqual({ queued: 0, spooled: 0 });
      // Each producer's messages keep their order unless the queue overflowed (documented).
      for (let p = 0; p < 8 && size === 1_000; p++) {
        const mine = ns().filter((n) => Math.floor(n / 1000) === p);
        expect(mine).toEqual([...mine].sort((a, b) => a - b));
      }
    },
  );

  it('overflows a full queue to the spool and loses nothing', async () => {
    const q = newQueue(3, 2);
    for (let n = 0; n < 50; n++) q.enqueue('usage.captured.v1', { n });
    expect(q.pending.spooled).toBeGreaterThan(0);
    await q.drain();
    await waitFor(() => received.length === 50, 5_000);
    expect(ns().sort((a, b) => a - b)).toEqual([...Array(50).keys()]);
  });

  it('drain gives up on a dead bus, keeps the messages on disk, and the next run replays them', async () => {
    bus.down = true;
    const first = newQueue();
    for (let n = 0; n < 30; n++) first.enqueue('usage.captured.v1', { n }, `keep-${n}`);
    const started = Date.now();
    await first.close(2_000);
    expect(Date.now() - started).toBeLessThan(2_000); // gives up once the bus refused again, not at the deadline
    expect(segments().length).toBeGreaterThan(0);
    first.enqueue('usage.captured.v1', { n: 30 }, 'keep-30'); // after close: straight to disk

    bus.down = false;
    const second = newQueue();
    expect(second.pending.spooled).toBe(31);
    await waitFor(() => received.length === 31, 5_000, 'replay by the next run');
    expect(received.map((e) => e.id)).toEqual([...Array(31).keys()].map((n) => `keep-${n}`));
  });

  it('skips torn and foreign lines in a segment and replays the rest', async () => {
    const good = (n: number): string => JSON.stringify({ i: `t-${n}`, t: 'usage.captured.v1', p: { n } });
    writeFileSync(
      join(dir, 'seg-00000000000000000007.jsonl'),
      `${good(1)}\nnot json\n{"x":1}\n${good(2)}\n{"i":"t-3","t":"usage.cap`,
    );
    writeFileSync(join(dir, 'seg-00000000000000000009.jsonl'), `${good(4)}\n`);
    writeFileSync(join(dir, 'unrelated.txt'), 'left alone');
    const q = newQueue();
    expect(q.pending.spooled).toBe(6);
    await waitFor(() => received.length === 3, 5_000);
    await sleep(50);
    expect(ns()).toEqual([1, 2, 4]);
    await waitFor(() => q.pending.spooled === 0);
    expect(readdirSync(dir)).toEqual(['unrelated.txt']);
  });

  it('drops an unserializable message alone, without spoiling its batch', async () => {
    const q = newQueue();
    JsonLogger.setSink(() => undefined);
    try {
      q.enqueue('usage.captured.v1', { n: 0 });
      q.enqueue('usage.captured.v1', { n: 1, big: BigInt(1) });
      q.enqueue('usage.captured.v1', { n: 2 });
    } finally {
      JsonLogger.setSink((line) => process.stdout.write(line));
    }
    await q.drain();
    await waitFor(() => received.length === 2);
    expect(ns()).toEqual([0, 2]);
    expect(segments()).toEqual([]);
  });

  it('drops cyclic and unserializable messages, keeps deep, dated and toJSON ones', async () => {
    const q = newQueue();
    const cyclic: Record<string, unknown> = { n: 1 };
    cyclic.self = { again: cyclic };
    let deep: Record<string, unknown> = { leaf: true };
    for (let i = 0; i < 200; i++) deep = { deep };
    JsonLogger.setSink(() => undefined);
    try {
      q.enqueue('usage.captured.v1', { n: 0, at: new Date(0), deep });
      q.enqueue('usage.captured.v1', cyclic);
      q.enqueue('usage.captured.v1', { n: 2, nested: [{ toJSON: () => BigInt(2) }] });
      q.enqueue('usage.captured.v1', { n: 3, custom: { toJSON: () => 'fine' } });
    } finally {
      JsonLogger.setSink((line) => process.stdout.write(line));
    }
    await q.drain();
    await waitFor(() => received.length === 2);
    expect(ns()).toEqual([0, 3]);
  });

  it('judges a payload as JSON.stringify would', () => {
    const cycle: unknown[] = [];
    cycle.push({ cycle });
    class Point {
      constructor(readonly x: number) {}
    }
    const throwingGetter = Object.defineProperty({}, 'bad', {
      enumerable: true,
      get: () => {
        throw new Error('getter');
      },
    });
    const values: unknown[] = [
      { a: 'x', b: 1, c: NaN, d: Infinity, e: null, f: undefined, g: [1, 'two', [null]], h: {} },
      Object.assign(Object.create(null) as object, { k: 'v' }),
      new Point(1),
      { when: new Date(0), buf: Buffer.from('hi') },
      { fn: () => 1, sym: Symbol('s') },
      { big: 1n },
      [1, [2n]],
      cycle,
      { toJSON: () => ({ big: 3n }) },
      throwingGetter,
    ];
    for (const value of values) {
      let expected: string | null = null;
      try {
        JSON.stringify(value);
      } catch (err) {
        expected = (err as Error).message;
      }
      expect(serializationProblem(value)).toBe(expected);
    }
  });

  it('never throws from enqueue when the disk fails, and counts the loss', async () => {
    const errorsBefore = await metric('spendops_outbound_publish_errors_total');
    bus.down = true;
    const q = newQueue(1, 1);
    rmSync(dir, { recursive: true, force: true });
    const lines: string[] = [];
    JsonLogger.setSink((line) => void lines.push(line));
    try {
      expect(() => {
        for (let n = 0; n < 5; n++) q.enqueue('usage.captured.v1', { secret: 'prompt text', n });
      }).not.toThrow();
      await sleep(50);
    } finally {
      JsonLogger.setSink((line) => process.stdout.write(line));
    }
    expect(lines.some((l) => l.includes('spool write failed'))).toBe(true);
    expect(lines.join('')).not.toContain('prompt text'); // ids only, never payloads
    expect((await metric('spendops_outbound_publish_errors_total')) - errorsBefore).toBeGreaterThan(0);
  });
});
