import { busContractSuite, sleep, uniqueName } from '../bus.contract-suite';
import { BusUnavailableError } from '../errors';
import { InProcessBus } from './in-process-bus';

const RETRY_BASE_MS = 20;
const bus = new InProcessBus({ retryBaseMs: RETRY_BASE_MS });
afterAll(() => bus.close());

busContractSuite('in-process', async () => ({
  bus,
  peer: async () => bus,
  deadLetters: async (queue) => bus.deadLetters(queue),
  retryBaseMs: RETRY_BASE_MS,
}));

describe('InProcessBus', () => {
  it('close() waits for handlers in flight, then refuses publishes', async () => {
    const own = new InProcessBus();
    const q = uniqueName('close');
    let finished = false;
    let started = false;
    await own.subscribe(q, [`${q}.ev`], async () => {
      started = true;
      await sleep(100);
      finished = true;
    });
    await own.publish(`${q}.ev`, {});
    while (!started) await sleep(5);
    await own.close();
    expect(finished).toBe(true);
    expect(own.health().ok).toBe(false);
    await expect(own.publish(`${q}.ev`, {})).rejects.toBeInstanceOf(BusUnavailableError);
  });

  it('close() delivers what was already published, retries included, before it resolves', async () => {
    const own = new InProcessBus({ retryBaseMs: 60_000 });
    const handled: number[] = [];
    await own.subscribe(
      'flush',
      ['flush.ev'],
      async (p: { i: number }, e) => {
        if (p.i === 0 && e.attempt === 1) throw new Error('once');
        handled.push(p.i);
      },
      { prefetch: 1 },
    );
    for (let i = 0; i < 5; i++) await own.publish('flush.ev', { i });
    await sleep(20); // message 0 now waits for a one-minute retry
    await own.close();
    expect(handled.sort()).toEqual([0, 1, 2, 3, 4]);
  });

  it('hands handlers a copy, never the publisher’s object', async () => {
    const own = new InProcessBus();
    const payload = { n: 1, at: new Date(0) };
    let got: unknown;
    await own.subscribe('copy', ['copy.ev'], async (p) => {
      got = p;
    });
    await own.publish('copy.ev', payload);
    while (!got) await sleep(5);
    expect(got).not.toBe(payload);
    expect(got).toEqual({ n: 1, at: '1970-01-01T00:00:00.000Z' });
    await own.close();
  });

  it('publishJson delivers what publish of the same payload delivers', async () => {
    const own = new InProcessBus();
    const got: unknown[] = [];
    await own.subscribe('json', ['json.ev'], async (_p, e) => void got.push(e));
    const payloads = [
      { n: 1, at: new Date(0), gone: undefined, s: 'a"\\\u2028' },
      [1, null],
      'text',
      0,
      null,
      undefined,
    ];
    for (const [i, payload] of payloads.entries()) {
      await own.publish('json.ev', payload, { messageId: `p${i}` });
      await own.publishJson('json.ev', JSON.stringify(payload), { messageId: `p${i}` });
    }
    while (got.length < payloads.length * 2) await sleep(5);
    const strip = (e: unknown) => ({ ...(e as object), published_at: 'T' });
    for (let i = 0; i < got.length; i += 2) {
      expect(strip(got[i + 1])).toStrictEqual(strip(got[i]));
      expect((got[i] as { published_at: string }).published_at).toMatch(/^\d{4}-\d\d-\d\dT/);
    }
    await own.close();
  });

  it('a queue bound after a topic was published gets that topic’s later messages', async () => {
    const own = new InProcessBus();
    const first: number[] = [];
    const second: number[] = [];
    await own.subscribe('late-a', ['late.*'], async (p: { i: number }) => void first.push(p.i));
    await own.publish('late.ev', { i: 1 });
    while (first.length < 1) await sleep(5);
    await own.subscribe('late-b', ['late.#'], async (p: { i: number }) => void second.push(p.i));
    await own.publish('late.ev', { i: 2 });
    while (first.length < 2 || second.length < 1) await sleep(5);
    expect(first).toEqual([1, 2]);
    expect(second).toEqual([2]);
    await own.close();
  });

  it('a retry redelivers the message as published, whatever the failed handler did to its copy', async () => {
    const own = new InProcessBus({ retryBaseMs: 1 });
    const seen: unknown[] = [];
    await own.subscribe('mut', ['mut.ev'], async (p: { list: number[]; n?: number }, e) => {
      seen.push(JSON.parse(JSON.stringify(p)));
      p.list.push(99);
      p.n = 7;
      if (e.attempt === 1) throw new Error('once');
    });
    await own.publishJson('mut.ev', JSON.stringify({ list: [1] }));
    while (seen.length < 2) await sleep(5);
    expect(seen).toEqual([{ list: [1] }, { list: [1] }]);
    await own.close();
  });
});
