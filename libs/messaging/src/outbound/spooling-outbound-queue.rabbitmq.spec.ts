// The outage promise end to end: nothing the publisher had confirmed or spooled is lost when the broker goes
// away and comes back.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JsonLogger } from '@spendops/observability';
import { RabbitMqInstance, rabbitMqAvailable, startRabbitMq } from '../../../testing/src/rabbitmq';
import { waitFor } from '../bus.contract-suite';
import { RabbitMqBus } from '../rabbitmq/rabbitmq-bus';
import { SpoolingOutboundQueue } from './spooling-outbound-queue';

JsonLogger.setLevel('error');
const describeBroker = rabbitMqAvailable() ? describe : describe.skip;

describeBroker('SpoolingOutboundQueue over RabbitMQ', () => {
  let broker: RabbitMqInstance;
  let dir: string;

  beforeAll(async () => {
    broker = await startRabbitMq();
    dir = mkdtempSync(join(tmpdir(), 'spendops-spool-rmq-'));
  }, 90_000);
  afterAll(async () => {
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('loses nothing confirmed or spooled across a broker stop and restart; each id consumed once', async () => {
    const busOptions = { url: broker.url, reconnectMinMs: 100, reconnectMaxMs: 300 };
    // Declare the consumer's queue, then let it go: messages wait in the durable quorum queue.
    const consumer = new RabbitMqBus(busOptions);
    await consumer.start();
    await consumer.waitUntilConnected();
    await consumer.subscribe('outage-ledger', ['usage.#'], async () => undefined);
    await consumer.close();

    const publisher = new RabbitMqBus(busOptions);
    await publisher.start();
    await publisher.waitUntilConnected();
    const outbound = new SpoolingOutboundQueue(publisher, dir, 1_000, 100, { retryMs: 100 });

    const before = 200;
    for (let i = 0; i < before; i++) outbound.enqueue('usage.captured.v1', { i }, `before-${i}`);
    await outbound.drain(10_000);
    expect(outbound.pending).toEqual({ queued: 0, spooled: 0 }); // all confirmed by the broker

    await broker.stopBroker();
    await waitFor(() => !publisher.health().ok, 10_000, 'publisher to notice');
    const during = 500;
    for (let i = 0; i < during; i++) outbound.enqueue('usage.captured.v1', { i }, `during-${i}`);
    await waitFor(() => outbound.pending.spooled === during, 10_000, 'all spooled');
    expect(readdirSync(dir).length).toBeGreaterThan(0);

    await broker.startBroker();
    await publisher.waitUntilConnected(20_000);
    await outbound.drain(15_000);
    expect(outbound.pending).toEqual({ queued: 0, spooled: 0 });
    expect(readdirSync(dir)).toEqual([]);

    const seen = new Map<string, number>();
    const reader = new RabbitMqBus(busOptions);
    await reader.start();
    await reader.waitUntilConnected();
    await reader.subscribe(
      'outage-ledger',
      ['usage.#'],
      async (_p, e) => void seen.set(e.id, (seen.get(e.id) ?? 0) + 1),
      { prefetch: 200 },
    );
    await waitFor(() => seen.size === before + during, 15_000, 'every message consumed');
    await new Promise((r) => setTimeout(r, 300));
    expect([...seen.values()].every((count) => count === 1)).toBe(true);
    for (let i = 0; i < before; i++) expect(seen.has(`before-${i}`)).toBe(true);
    for (let i = 0; i < during; i++) expect(seen.has(`during-${i}`)).toBe(true);

    await outbound.close(1_000);
    await reader.close();
    await publisher.close();
  }, 90_000);
});
