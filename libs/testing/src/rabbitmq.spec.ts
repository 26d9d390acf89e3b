import { connect as amqpConnect } from 'amqplib';
import { existsSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { RabbitMqInstance, rabbitMqAvailable, startRabbitMq } from './rabbitmq';

const describeBroker = rabbitMqAvailable() ? describe : describe.skip;

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = netConnect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describeBroker('startRabbitMq', () => {
  let broker: RabbitMqInstance;
  jest.setTimeout(60_000);

  beforeAll(async () => {
    broker = await startRabbitMq();
  });
  afterAll(async () => {
    await broker?.stop();
  });

  it('serves AMQP on its own node; stop() ends it and removes its data', async () => {
    expect(broker.nodeName).toMatch(/^spendops-test-[0-9a-f]{8}@localhost$/);
    expect(broker.url).toBe(`amqp://guest:guest@127.0.0.1:${broker.port}`);
    const conn = await amqpConnect(broker.url);
    const ch = await conn.createConfirmChannel();
    await ch.assertQueue('harness.q', { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    ch.sendToQueue('harness.q', Buffer.from('hello'), { persistent: true });
    await ch.waitForConfirms();
    let got: false | { content: Buffer } = false;
    for (let i = 0; i < 50 && !got; i++) {
      got = await ch.get('harness.q', { noAck: true });
      if (!got) await new Promise((r) => setTimeout(r, 20));
    }
    expect(got && got.content.toString()).toBe('hello');
    await conn.close();

    await broker.stop();
    expect(await portOpen(broker.port)).toBe(false);
    expect(existsSync(broker.dataDir)).toBe(false);
  });
  // stopBroker()/startBroker() keeping durable data are exercised by the bus outage test
  // (libs/messaging/src/rabbitmq/rabbitmq-bus.spec.ts).
});
