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
});
