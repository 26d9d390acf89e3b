// examples/consume-usage.js against a real RabbitMQ: it receives what is published as SpendOps publishes it,
// skips a duplicate message id, acks after processing, and after being down gets what it missed.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import amqp from 'amqplib';
import type { UsageEventView } from '@spendops/contracts';
import { rabbitMqAvailable, startRabbitMq, type RabbitMqInstance } from '@spendops/testing';

jest.setTimeout(60_000);

const EXAMPLE = join(__dirname, '..', '..', '..', 'examples', 'consume-usage.js');
const describeBroker = rabbitMqAvailable() ? describe : describe.skip;

function event(requestId: string, cost: string | null): Partial<UsageEventView> {
  return {
    request_id: requestId,
    provider: 'openai',
    model: 'gpt-4o',
    total_tokens: 42,
    total_cost_usd: cost,
  };
}

interface Running {
  child: ChildProcess;
  lines: string[];
  exited: Promise<number | null>;
}

async function startConsumer(url: string): Promise<Running> {
  const child = spawn(process.execPath, [EXAMPLE], {
    env: { ...process.env, SPENDOPS_AMQP_URL: url, QUEUE: 'example.spec' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let buffered = '';
  child.stdout!.on('data', (d: Buffer) => {
    buffered += d.toString();
    const parts = buffered.split('\n');
    buffered = parts.pop()!;
    lines.push(...parts);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  await new Promise<void>((resolve, reject) => {
    let err = '';
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.includes('consuming usage.recorded.v1')) resolve();
    });
    void exited.then((code) => reject(new Error(`example exited ${code}: ${err}`)));
  });
  return { child, lines, exited };
}

async function until(what: string, check: () => boolean): Promise<void> {
  for (let i = 0; i < 250; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${what}: not in time`);
}

describeBroker('examples/consume-usage.js', () => {
  let broker: RabbitMqInstance;
  let publisher: amqp.ChannelModel;
  let channel: amqp.ConfirmChannel;

  beforeAll(async () => {
    broker = await startRabbitMq();
    publisher = await amqp.connect(broker.url);
    channel = await publisher.createConfirmChannel();
    await channel.assertExchange('spendops.events', 'topic', { durable: true });
  });
  afterAll(async () => {
    await publisher?.close().catch(() => undefined);
    await broker?.stop();
  });

  /** Publishes the way the ledger's outbox does (persistent JSON, message id, type, headers), confirmed. */
  async function publish(messageId: string, body: unknown, routingKey = 'usage.recorded.v1'): Promise<void> {
    channel.publish('spendops.events', routingKey, Buffer.from(JSON.stringify(body)), {
      persistent: true,
      messageId,
      type: routingKey,
      contentType: 'application/json',
      headers: { published_at: new Date().toISOString(), attempt: 1 },
    });
    await channel.waitForConfirms();
  }

  it('processes each message id once, acks, and gets what was published while it was down', async () => {
    let running = await startConsumer(broker.url);
    await publish('m-1', event('req-1', '0.000123450'));
    await publish('m-1', event('req-1', '0.000123450')); // a redelivery of the same message
    await publish('d-1', { request_id: 'deny' }, 'request.denied.v1'); // not bound: never arrives
    await publish('m-2', event('req-2', null));
    await until('two lines', () => running.lines.length >= 2);
    await new Promise((r) => setTimeout(r, 200));
    expect(running.lines).toEqual([
      'req-1 openai/gpt-4o tokens=42 cost=$0.000123450',
      'req-2 openai/gpt-4o tokens=42 cost=unpriced',
    ]);

    running.child.kill('SIGTERM');
    expect(await running.exited).toBe(0);
    // Down: the durable queue bound before the outage keeps these.
    await publish('m-3', event('req-3', '1.5'));
    await publish('m-4', event('req-1', '0.000200000')); // a re-pricing: new message id, same request
    const check = await publisher.createChannel();
    expect((await check.checkQueue('example.spec')).messageCount).toBe(2); // acked ones are gone
    await check.close();

    running = await startConsumer(broker.url);
    await until('the missed two', () => running.lines.length >= 2);
    expect(running.lines).toEqual([
      'req-3 openai/gpt-4o tokens=42 cost=$1.5',
      'req-1 openai/gpt-4o tokens=42 cost=$0.000200000',
    ]);
    running.child.kill('SIGTERM');
    expect(await running.exited).toBe(0);
  });
});
