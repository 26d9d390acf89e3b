import { connect as amqpConnect } from 'amqplib';
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

  it('serves AMQP on its own node and keeps durable data across a stop and start', async () => {
    expect(broker.nodeName).toMatch(/^spendops-test-[0-9a-f]{8}@localhost$/);
    let conn = await amqpConnect(broker.url);
    let ch = await conn.createConfirmChannel();
    await ch.assertQueue('harness.q', { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    ch.sendToQueue('harness.q', Buffer.from('kept'), { persistent: true });
    await ch.waitForConfirms();
    await conn.close();

    await broker.stopBroker();
    expect(await portOpen(broker.port)).toBe(false);
    await broker.startBroker();

    conn = await amqpConnect(broker.url);
    ch = await conn.createConfirmChannel();
    let got: false | { content: Buffer } = false;
    for (let i = 0; i < 50 && !got; i++) {
      got = await ch.get('harness.q', { noAck: true });
      if (!got) await new Promise((r) => setTimeout(r, 100));
    }
    expect(got && got.content.toString()).toBe('kept');
    await conn.close();
  });
});
