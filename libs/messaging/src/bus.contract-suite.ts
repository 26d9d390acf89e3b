// The semantic tests every MessageBus transport must pass; each transport's spec runs them against its own bus.
import { Envelope, MessageBus, PoisonMessageError } from './bus';
import { DeadLetter } from './dead-letter';
import { NoCommandHandlerError, RemoteCommandError, RequestTimeoutError } from './errors';

export interface BusUnderTest {
  /** The bus of "this process". */
  bus: MessageBus;
  /** The bus of another process on the same broker (the in-process transport has only one). */
  peer(): Promise<MessageBus>;
  deadLetters(queue: string): Promise<DeadLetter[]>;
  /** Retry backoff the transport was built with, to size waits. */
  retryBaseMs: number;
}

export async function waitFor(
  condition: () => boolean,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

let seq = 0;
/** Unique queue/topic names per test so tests on one broker never see each other's messages. */
export function uniqueName(prefix: string): string {
  seq++;
  return `${prefix}${seq}x${process.pid}x${Date.now().toString(36)}`;
}

export function busContractSuite(transport: string, setup: () => Promise<BusUnderTest>): void {
  describe(`MessageBus contract: ${transport}`, () => {
    let t: BusUnderTest;
    beforeAll(async () => {
      t = await setup();
    });

    it('delivers a published message with its envelope, asynchronously', async () => {
      const q = uniqueName('rt');
      const topic = `${q}.created.v1`;
      const got: Envelope<{ n: number }>[] = [];
      await t.bus.subscribe<{ n: number }>(q, [topic], async (_payload, envelope) => {
        got.push(envelope);
      });
      let ranInsidePublish = false;
      const publishing = t.bus.publish(topic, { n: 1 }, { messageId: 'msg-1' });
      ranInsidePublish = got.length > 0;
      await publishing;
      await t.bus.publish(topic, { n: 2 });
      await waitFor(() => got.length === 2, 10_000, 'two deliveries');
      expect(ranInsidePublish).toBe(false);
      expect(got[0]).toEqual({
        id: 'msg-1',
        topic,
        payload: { n: 1 },
        published_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        attempt: 1,
      });
      expect(got[1].id).toMatch(/^[0-9a-f-]{36}$/);
      expect(got[1].payload).toEqual({ n: 2 });
    });

    it('routes by topic pattern with * and #', async () => {
      const base = uniqueName('route');
      const star: string[] = [];
      const hash: string[] = [];
      await t.bus.subscribe(`${base}-star`, [`${base}.*.v1`], async (_p, e) => void star.push(e.topic));
      await t.bus.subscribe(`${base}-hash`, [`${base}.#`], async (_p, e) => void hash.push(e.topic));
      for (const topic of [
        `${base}.a.v1`,
        `${base}.a.b.v1`,
        `${base}`,
        `other.${base}.a.v1`,
        `${base}.a.v2`,
      ]) {
        await t.bus.publish(topic, {});
      }
      await waitFor(() => hash.length === 4, 10_000, 'hash deliveries');
      await sleep(100);
      expect(star).toEqual([`${base}.a.v1`]);
      expect(hash.sort()).toEqual([`${base}`, `${base}.a.b.v1`, `${base}.a.v1`, `${base}.a.v2`].sort());
    });

    it('gives each queue a copy; subscriptions sharing a queue compete', async () => {
      const base = uniqueName('compete');
      const topic = `${base}.ev.v1`;
      const peer = await t.peer();
      const seenA: number[] = [];
      const seenB: number[] = [];
      const seenOther: number[] = [];
      const slow = (into: number[]) => async (p: { i: number }) => {
        await sleep(5);
        into.push(p.i);
      };
      await t.bus.subscribe(`${base}-workers`, [topic], slow(seenA), { prefetch: 1 });
      await peer.subscribe(`${base}-workers`, [topic], slow(seenB), { prefetch: 1 });
      await t.bus.subscribe(`${base}-audit`, [topic], slow(seenOther), { prefetch: 5 });
      const n = 40;
      for (let i = 0; i < n; i++) await t.bus.publish(topic, { i });
      await waitFor(
        () => seenA.length + seenB.length === n && seenOther.length === n,
        15_000,
        'all deliveries',
      );
      await sleep(100);
      expect([...seenA, ...seenB].sort((a, b) => a - b)).toEqual([...Array(n).keys()]);
      expect(seenA.length).toBeGreaterThan(0);
      expect(seenB.length).toBeGreaterThan(0);
      expect(seenOther.sort((a, b) => a - b)).toEqual([...Array(n).keys()]);
    });

    it('broadcast subscriptions each receive every message', async () => {
      const base = uniqueName('bcast');
      const topic = `${base}.changed.v1`;
      const peer = await t.peer();
      const a: number[] = [];
      const b: number[] = [];
      await t.bus.subscribe(`${base}-replica`, [topic], async (p: { i: number }) => void a.push(p.i), {
        broadcast: true,
      });
      await peer.subscribe(`${base}-replica`, [topic], async (p: { i: number }) => void b.push(p.i), {
        broadcast: true,
      });
      for (let i = 0; i < 5; i++) await t.bus.publish(topic, { i });
      await waitFor(() => a.length === 5 && b.length === 5, 10_000, 'broadcast deliveries');
      expect(a.sort()).toEqual([0, 1, 2, 3, 4]);
      expect(b.sort()).toEqual([0, 1, 2, 3, 4]);
    });

    it('bounds concurrent handlers by prefetch', async () => {
      const q = uniqueName('prefetch');
      const topic = `${q}.ev.v1`;
      let running = 0;
      let maxRunning = 0;
      let done = 0;
      await t.bus.subscribe(
        q,
        [topic],
        async () => {
          running++;
          maxRunning = Math.max(maxRunning, running);
          await sleep(30);
          running--;
          done++;
        },
        { prefetch: 3 },
      );
      for (let i = 0; i < 12; i++) await t.bus.publish(topic, { i });
      await waitFor(() => done === 12, 15_000, 'handled');
      expect(maxRunning).toBe(3);
    });

    it('retries a failing handler with increasing attempts, then succeeds', async () => {
      const q = uniqueName('retry');
      const topic = `${q}.ev.v1`;
      const attempts: number[] = [];
      let ok = false;
      await t.bus.subscribe(
        q,
        [topic],
        async (_p, e) => {
          attempts.push(e.attempt);
          if (e.attempt < 3) throw new Error('transient');
          ok = true;
        },
        { maxAttempts: 5 },
      );
      await t.bus.publish(topic, { x: 1 }, { messageId: 'retry-me' });
      await waitFor(() => ok, 15_000, 'success after retries');
      await sleep(t.retryBaseMs * 4);
      expect(attempts).toEqual([1, 2, 3]);
      expect(await t.deadLetters(q)).toEqual([]);
    });

    it('dead-letters after maxAttempts with the reason, while later messages still flow', async () => {
      const q = uniqueName('dlq');
      const topic = `${q}.ev.v1`;
      const good: number[] = [];
      let badAttempts = 0;
      await t.bus.subscribe(
        q,
        [topic],
        async (p: { i: number; bad?: boolean }) => {
          if (p.bad) {
            badAttempts++;
            throw new Error('ledger said no');
          }
          good.push(p.i);
        },
        { maxAttempts: 3, prefetch: 1 },
      );
      await t.bus.publish(topic, { i: 0, bad: true }, { messageId: 'bad-1' });
      for (let i = 1; i <= 5; i++) await t.bus.publish(topic, { i });
      await waitFor(() => good.length === 5, 15_000, 'good messages');
      let dead: DeadLetter[] = [];
      await waitFor(() => badAttempts === 3, 15_000, 'three attempts');
      for (let i = 0; i < 100 && dead.length === 0; i++) {
        dead = await t.deadLetters(q);
        if (dead.length === 0) await sleep(50);
      }
      expect(good).toEqual([1, 2, 3, 4, 5]);
      expect(dead).toHaveLength(1);
      expect(dead[0].envelope.id).toBe('bad-1');
      expect(dead[0].envelope.attempt).toBe(3);
      expect(dead[0].envelope.payload).toEqual({ i: 0, bad: true });
      expect(dead[0].reason).toBe('Error: ledger said no');
      await sleep(t.retryBaseMs * 8);
      expect(badAttempts).toBe(3);
    });

    it('dead-letters a PoisonMessageError at once', async () => {
      const q = uniqueName('poison');
      const topic = `${q}.ev.v1`;
      let attempts = 0;
      await t.bus.subscribe(
        q,
        [topic],
        async () => {
          attempts++;
          throw new PoisonMessageError('missing request_id');
        },
        { maxAttempts: 5 },
      );
      await t.bus.publish(topic, { shape: 'wrong' }, { messageId: 'poison-1' });
      let dead: DeadLetter[] = [];
      for (let i = 0; i < 200 && dead.length === 0; i++) {
        dead = await t.deadLetters(q);
        if (dead.length === 0) await sleep(50);
      }
      await sleep(t.retryBaseMs * 4);
      expect(attempts).toBe(1);
      expect(dead).toHaveLength(1);
      expect(dead[0].envelope.attempt).toBe(1);
      expect(dead[0].reason).toBe('PoisonMessageError: missing request_id');
    });

    it('request/reply: a reply, a remote error, a timeout, and no handler', async () => {
      const base = uniqueName('cmd');
      const peer = await t.peer();
      await peer.handle<{ a: number; b: number }, { sum: number }>(`${base}.add`, async ({ a, b }) => ({
        sum: a + b,
      }));
      await peer.handle(`${base}.fail`, async () => {
        throw new TypeError('key not found');
      });
      await peer.handle(`${base}.slow`, async () => {
        await sleep(1_000);
        return 'late';
      });
      await expect(t.bus.request(`${base}.add`, { a: 2, b: 3 })).resolves.toEqual({ sum: 5 });
      const results = await Promise.all(
        [...Array(20).keys()].map((i) =>
          t.bus.request<{ a: number; b: number }, { sum: number }>(`${base}.add`, { a: i, b: 1 }),
        ),
      );
      expect(results.map((r) => r.sum)).toEqual([...Array(20).keys()].map((i) => i + 1));
      const failed = t.bus.request(`${base}.fail`, {});
      await expect(failed).rejects.toBeInstanceOf(RemoteCommandError);
      await expect(failed).rejects.toMatchObject({ message: 'key not found', remoteName: 'TypeError' });
      await expect(t.bus.request(`${base}.slow`, {}, { timeoutMs: 150 })).rejects.toBeInstanceOf(
        RequestTimeoutError,
      );
      await expect(t.bus.request(`${base}.nobody`, {}, { timeoutMs: 2_000 })).rejects.toBeInstanceOf(
        NoCommandHandlerError,
      );
      await sleep(1_000); // let the slow handler finish before the suite closes the bus
    });

    it('reports health', () => {
      expect(t.bus.health().ok).toBe(true);
    });
  });
}
