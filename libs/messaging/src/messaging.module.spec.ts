import 'reflect-metadata';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Inject, Injectable, Module, OnModuleInit } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { JsonLogger } from '@spendops/observability';
import { MESSAGE_BUS, MessageBus, OUTBOUND_QUEUE, OutboundQueue } from './bus';
import { waitFor } from './bus.contract-suite';
import { InProcessBus } from './in-process/in-process-bus';
import { MessagingModule } from './messaging.module';
import { RabbitMqBus } from './rabbitmq/rabbitmq-bus';

JsonLogger.setLevel('error');

const seen: number[] = [];

@Injectable()
class LedgerConsumer implements OnModuleInit {
  constructor(@Inject(MESSAGE_BUS) private readonly bus: MessageBus) {}
  async onModuleInit(): Promise<void> {
    await this.bus.subscribe<{ n: number }>('ledger', ['usage.priced.v1'], async (p) => {
      await new Promise((r) => setTimeout(r, 2));
      seen.push(p.n);
    });
  }
}

@Module({ providers: [LedgerConsumer] })
class LedgerModule {}

describe('MessagingModule', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'spendops-msgmod-'));
    seen.length = 0;
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('provides the in-process bus and an outbound queue globally, and drains them on shutdown', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [MessagingModule.forRoot({ spoolDir: dir }), LedgerModule],
    }).compile();
    const app = await moduleRef.init();
    const bus = app.get<MessageBus>(MESSAGE_BUS);
    expect(bus).toBeInstanceOf(InProcessBus);
    const outbound = app.get<OutboundQueue>(OUTBOUND_QUEUE);
    for (let n = 0; n < 50; n++) outbound.enqueue('usage.priced.v1', { n });
    await app.close(); // drain the outbound queue, then the bus delivers what it accepted
    expect(seen.sort((a, b) => a - b)).toEqual([...Array(50).keys()]);
    expect(bus.health().ok).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('chooses RabbitMQ for an AMQP URL and boots without the broker, spooling on shutdown', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        MessagingModule.forRoot({
          amqpUrl: 'amqp://guest:guest@127.0.0.1:1',
          spoolDir: dir,
          drainTimeoutMs: 500,
        }),
      ],
    }).compile();
    const app = await moduleRef.init();
    const bus = app.get<MessageBus>(MESSAGE_BUS);
    expect(bus).toBeInstanceOf(RabbitMqBus);
    expect(bus.health()).toMatchObject({ ok: false, transport: 'rabbitmq' });
    app.get<OutboundQueue>(OUTBOUND_QUEUE).enqueue('usage.captured.v1', { n: 1 }, 'kept-1');
    await waitFor(() => readdirSync(dir).length > 0, 5_000, 'spooled');
    await app.close();
    expect(readdirSync(dir).length).toBeGreaterThan(0); // kept for the next run
  });
});
