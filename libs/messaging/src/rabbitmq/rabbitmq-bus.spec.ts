import { RabbitMqInstance, rabbitMqAvailable, startRabbitMq } from '../../../testing/src/rabbitmq';
import { busContractSuite, sleep, uniqueName, waitFor } from '../bus.contract-suite';
import { BusUnavailableError } from '../errors';
import { JsonLogger } from '@spendops/observability';
import { RabbitMqBus } from './rabbitmq-bus';

JsonLogger.setLevel('error');

const RETRY_BASE_MS = 50;
jest.setTimeout(30_000);

const describeBroker = rabbitMqAvailable() ? describe : describe.skip;

describeBroker('RabbitMqBus', () => {
  let broker: RabbitMqInstance;
  const buses: RabbitMqBus[] = [];

  async function newBus(
    extra: Partial<ConstructorParameters<typeof RabbitMqBus>[0]> = {},
  ): Promise<RabbitMqBus> {
    const bus = new RabbitMqBus({
      url: broker.url,
      retryBaseMs: RETRY_BASE_MS,
      reconnectMaxMs: 500,
      ...extra,
    });
    buses.push(bus);
    await bus.start();
    await bus.waitUntilConnected(10_000);
    return bus;
  }

  beforeAll(async () => {
    broker = await startRabbitMq();
  }, 90_000);
  afterAll(async () => {
    for (const bus of buses) await bus.close().catch(() => undefined);
    await broker?.stop();
  }, 60_000);

  busContractSuite('rabbitmq', async () => {
    const bus = await newBus();
    return {
      bus,
      peer: () => newBus(),
      deadLetters: (queue) => bus.deadLetters(queue),
      retryBaseMs: RETRY_BASE_MS,
    };
  });

  it('redelivers an unacked message after the consumer’s connection dies', async () => {
    const q = uniqueName('redeliver');
    const topic = `${q}.ev.v1`;
    const crashing = await newBus();
    let started = false;
    await crashing.subscribe(q, [topic], () => {
      started = true;
      return new Promise<void>(() => undefined); // never acks
    });
    const publisher = await newBus();
    await publisher.publish(topic, { n: 7 }, { messageId: 'unacked-1' });
    await waitFor(() => started, 10_000, 'first delivery');
    crashing.abort();

    const got: string[] = [];
    await publisher.subscribe(q, [topic], async (_p, e) => void got.push(e.id));
    await waitFor(() => got.length === 1, 10_000, 'redelivery');
    await sleep(200);
    expect(got).toEqual(['unacked-1']);
  });

  it('reports a lost broker in health(), rejects publish at once, and recovers with its subscriptions', async () => {
    const q = uniqueName('outage');
    const topic = `${q}.ev.v1`;
    const bus = await newBus();
    const got: number[] = [];
    await bus.subscribe(q, [topic], async (p: { i: number }) => void got.push(p.i));
    await bus.publish(topic, { i: 1 });
    await waitFor(() => got.length === 1, 10_000, 'first message');

    await broker.stopBroker();
    await waitFor(() => !bus.health().ok, 10_000, 'health to turn bad');
    expect(bus.health()).toMatchObject({ ok: false, transport: 'rabbitmq' });
    expect(bus.health().detail).not.toContain('guest');
    const started = Date.now();
    await expect(bus.publish(topic, { i: 2 })).rejects.toBeInstanceOf(BusUnavailableError);
    expect(Date.now() - started).toBeLessThan(1_000);

    await broker.startBroker();
    await bus.waitUntilConnected(20_000);
    expect(bus.health().ok).toBe(true);
    await bus.publish(topic, { i: 3 });
    await waitFor(() => got.length === 2, 10_000, 'message after recovery');
    expect(got).toEqual([1, 3]);
  }, 60_000);

  it('starts without a broker and connects when it appears', async () => {
    const bus = new RabbitMqBus({ url: 'amqp://guest:guest@127.0.0.1:1', reconnectMaxMs: 200 });
    await bus.start();
    expect(bus.health().ok).toBe(false);
    await expect(bus.publish('x.y', {})).rejects.toBeInstanceOf(BusUnavailableError);
    await bus.close();
  });
});
