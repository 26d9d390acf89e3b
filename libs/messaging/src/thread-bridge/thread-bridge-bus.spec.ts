import { MessageChannel, MessagePort } from 'node:worker_threads';
import { busContractSuite, sleep, uniqueName, waitFor } from '../bus.contract-suite';
import { BusUnavailableError } from '../errors';
import { BridgeLink, FramePort } from './bridge-link';
import { ThreadBridgeBus } from './thread-bridge-bus';

const RETRY_BASE_MS = 20;

/** A main side and a pipeline side joined by a real MessageChannel (structured clone, asynchronous). */
function pair(): { main: ThreadBridgeBus; pipeline: ThreadBridgeBus; ports: MessagePort[] } {
  const { port1, port2 } = new MessageChannel();
  const main = new ThreadBridgeBus({ role: 'main', retryBaseMs: RETRY_BASE_MS });
  const pipeline = new ThreadBridgeBus({ role: 'pipeline', retryBaseMs: RETRY_BASE_MS });
  main.attach(new BridgeLink(port1 as unknown as FramePort));
  pipeline.attach(new BridgeLink(port2 as unknown as FramePort));
  return { main, pipeline, ports: [port1, port2] };
}

/** A new pipeline side for `main` (as after a worker restart). */
function newPipeline(main: ThreadBridgeBus): { pipeline: ThreadBridgeBus; port: MessagePort; kill(): void } {
  const { port1, port2 } = new MessageChannel();
  const pipeline = new ThreadBridgeBus({ role: 'pipeline', retryBaseMs: RETRY_BASE_MS });
  const link = new BridgeLink(port2 as unknown as FramePort);
  main.attach(new BridgeLink(port1 as unknown as FramePort));
  pipeline.attach(link);
  return {
    pipeline,
    port: port2,
    kill() {
      // The thread is gone: it neither answers nor sends any more.
      link.close('killed');
      main.detach('pipeline thread exited');
      port1.close();
      port2.close();
    },
  };
}

const shared = pair();
shared.pipeline.announceReady();
afterAll(async () => {
  await shared.main.close();
  await shared.pipeline.close();
  for (const port of shared.ports) port.close();
});

busContractSuite('thread bridge (main side, pipeline as the peer)', async () => {
  await shared.main.whenPeerReady();
  return {
    bus: shared.main,
    peer: async () => shared.pipeline,
    deadLetters: async (queue) => [...shared.main.deadLetters(queue), ...shared.pipeline.deadLetters(queue)],
    retryBaseMs: RETRY_BASE_MS,
  };
});

describe('ThreadBridgeBus', () => {
  it('a payload crosses as JSON, both ways: handlers get what the in-process bus would give them', async () => {
    const { main, pipeline, ports } = pair();
    const q = uniqueName('json');
    const down: unknown[] = [];
    const up: unknown[] = [];
    await pipeline.subscribe(`${q}-down`, [`${q}.down`], async (p, e) => void down.push([p, e.payload]));
    await main.subscribe(`${q}-up`, [`${q}.up`], async (p) => void up.push(p), { broadcast: true });
    pipeline.announceReady();
    await main.whenPeerReady();
    const payload = { at: new Date(0), gone: undefined, nested: { list: [1, 'two', null] } };
    const expected = { at: '1970-01-01T00:00:00.000Z', nested: { list: [1, 'two', null] } };
    await main.publish(`${q}.down`, payload);
    await main.publish(`${q}.down`, undefined);
    await pipeline.publish(`${q}.up`, payload);
    await waitFor(() => down.length === 2 && up.length === 1, 5_000, 'deliveries');
    expect(down).toStrictEqual([
      [expected, expected],
      [undefined, undefined],
    ]);
    expect(up).toStrictEqual([expected]);
    await main.close();
    await pipeline.close();
    for (const port of ports) port.close();
  });

  it('a pipeline publish reaches main-thread subscribers, and main requests reach pipeline commands', async () => {
    const { main, pipeline, ports } = pair();
    const q = uniqueName('up');
    const got: string[] = [];
    await main.subscribe(q, [`${q}.spend`], async (p: { v: string }) => void got.push(p.v), {
      broadcast: true,
    });
    await pipeline.handle('cmd.echo', async (req: { x: number }) => ({ y: req.x * 2 }));
    pipeline.announceReady();
    await main.whenPeerReady();
    await pipeline.publish(`${q}.spend`, { v: 'a' });
    await waitFor(() => got.length === 1, 5_000, 'delivery on main');
    await expect(main.request('cmd.echo', { x: 21 })).resolves.toEqual({ y: 42 });
    await main.close();
    await pipeline.close();
    for (const port of ports) port.close();
  });

  it('a request made while the pipeline starts waits for it, within its timeout', async () => {
    const main = new ThreadBridgeBus({ role: 'main', retryBaseMs: RETRY_BASE_MS });
    const p = newPipeline(main);
    const early = main.request<{ x: number }, number>('cmd.late', { x: 1 }, { timeoutMs: 3_000 });
    await sleep(100);
    await p.pipeline.handle('cmd.late', async (req: { x: number }) => req.x + 1);
    p.pipeline.announceReady();
    await expect(early).resolves.toBe(2);
    p.kill();
    await expect(main.request('cmd.late', {}, { timeoutMs: 200 })).rejects.toBeInstanceOf(
      BusUnavailableError,
    );
    await main.close();
  });

  it('keeps a message until its whole pipeline chain is done, then forgets it', async () => {
    const { main, pipeline, ports } = pair();
    const q = uniqueName('chain');
    let releaseLedger!: () => void;
    const ledgerGate = new Promise<void>((resolve) => (releaseLedger = resolve));
    const recorded: string[] = [];
    await pipeline.subscribe(`${q}-extract`, [`${q}.captured`], async (p: { id: string }) => {
      await pipeline.publish(`${q}.extracted`, p, { messageId: p.id });
    });
    await pipeline.subscribe(`${q}-ledger`, [`${q}.extracted`], async (p: { id: string }) => {
      await ledgerGate;
      recorded.push(p.id);
    });
    pipeline.announceReady();
    await main.whenPeerReady();
    await main.publish(`${q}.captured`, { id: 'r1' }, { messageId: 'r1' });
    await sleep(100);
    expect(main.unsettled).toBe(1); // extracted, not yet recorded
    releaseLedger();
    await waitFor(() => main.unsettled === 0, 5_000, 'settled');
    expect(recorded).toEqual(['r1']);
    await main.close();
    await pipeline.close();
    for (const port of ports) port.close();
  });

  it('replays what a dead pipeline accepted but never settled to the next one, exactly the unsettled ones', async () => {
    const main = new ThreadBridgeBus({ role: 'main', retryBaseMs: RETRY_BASE_MS });
    const q = uniqueName('crash');
    const first = newPipeline(main);
    const done1: string[] = [];
    await first.pipeline.subscribe(q, [`${q}.captured`], async (p: { id: string }) => {
      if (p.id.startsWith('slow')) await new Promise(() => undefined); // dies with the thread
      done1.push(p.id);
    });
    first.pipeline.announceReady();
    await main.whenPeerReady();
    await Promise.all(['a', 'slow-b', 'c', 'slow-d'].map((id) => main.publish(`${q}.captured`, { id })));
    await waitFor(() => done1.length === 2, 5_000, 'fast ones handled');
    await waitFor(() => main.unsettled === 2, 5_000, 'fast ones settled');
    first.kill();
    await expect(main.publish(`${q}.captured`, { id: 'while-down' })).rejects.toBeInstanceOf(
      BusUnavailableError,
    );
    expect(main.health().ok).toBe(true);

    const second = newPipeline(main);
    const done2: string[] = [];
    await second.pipeline.subscribe(q, [`${q}.captured`], async (p: { id: string }) => void done2.push(p.id));
    second.pipeline.announceReady();
    await waitFor(() => done2.length === 2 && main.unsettled === 0, 5_000, 'replayed');
    expect(done2.sort()).toEqual(['slow-b', 'slow-d']);
    await main.close();
    await second.pipeline.close();
    second.port.close();
  });

  it('close() waits for the pipeline to settle, stops it, and hands back what never settled', async () => {
    const main = new ThreadBridgeBus({ role: 'main', retryBaseMs: RETRY_BASE_MS, settleTimeoutMs: 300 });
    const q = uniqueName('close');
    const p = newPipeline(main);
    const handled: string[] = [];
    await p.pipeline.subscribe(q, [`${q}.ev`], async (m: { id: string }) => {
      if (m.id === 'stuck') await new Promise(() => undefined);
      await sleep(50);
      handled.push(m.id);
    });
    p.pipeline.announceReady();
    await main.whenPeerReady();
    const order: string[] = [];
    main.onClosePeer(async () => {
      order.push(`peer closed after ${handled.length}`);
      p.kill();
    });
    const handedBack: string[] = [];
    main.onUnsettledAtClose((messages) => handedBack.push(...messages.map((m) => m.id)));
    await main.publish(`${q}.ev`, { id: 'one' }, { messageId: 'one' });
    await main.publish(`${q}.ev`, { id: 'stuck' }, { messageId: 'stuck' });
    await main.close();
    expect(order).toEqual(['peer closed after 1']);
    expect(handedBack).toEqual(['stuck']);
    expect(main.health().ok).toBe(false);
  });

  it('makes a publisher wait while too much is unsettled, and fails it when the pipeline dies meanwhile', async () => {
    const main = new ThreadBridgeBus({
      role: 'main',
      retryBaseMs: RETRY_BASE_MS,
      maxUnsettled: 2,
      settleTimeoutMs: 200,
    });
    const q = uniqueName('room');
    const p = newPipeline(main);
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    await p.pipeline.subscribe(q, [`${q}.ev`], async () => gate, { prefetch: 10 });
    p.pipeline.announceReady();
    await main.whenPeerReady();
    await main.publish(`${q}.ev`, { i: 1 });
    await main.publish(`${q}.ev`, { i: 2 });
    let third = false;
    const waiting = main.publish(`${q}.ev`, { i: 3 }).then(() => (third = true));
    await sleep(100);
    expect(third).toBe(false);
    open();
    await waiting;
    expect(third).toBe(true);
    const q2 = uniqueName('room2');
    await p.pipeline.subscribe(q2, [`${q2}.ev`], async () => new Promise(() => undefined), { prefetch: 10 });
    await waitFor(() => main.unsettled === 0, 5_000, 'first batch settled');
    await main.publish(`${q2}.ev`, {});
    await main.publish(`${q2}.ev`, {});
    const blocked = main.publish(`${q2}.ev`, {});
    await sleep(50);
    p.kill();
    await expect(blocked).rejects.toBeInstanceOf(BusUnavailableError);
    await main.close();
  });
});
