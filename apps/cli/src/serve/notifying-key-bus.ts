// The CLI's stand-in for the bus: it has no broker connection of its own (all-in-one servers use an in-process
// bus), so a key change is announced with a PostgreSQL NOTIFY that the running auth service relays.
import { KEY_CHANGED_PG_CHANNEL, type KeyChangedV1, Topics } from '@spendops/contracts';
import type { BusHealth, MessageBus } from '@spendops/messaging';
import type { DataSource } from 'typeorm';

export class NotifyingKeyBus implements MessageBus {
  constructor(private readonly dataSource: DataSource) {}

  async publish<T>(topic: string, payload: T): Promise<void> {
    if (topic !== Topics.keyChanged) throw new Error(`the CLI does not publish ${topic}`);
    const { key, change } = payload as unknown as KeyChangedV1;
    await this.dataSource.query('SELECT pg_notify($1, $2)', [
      KEY_CHANGED_PG_CHANNEL,
      JSON.stringify({ id: key.id, change }),
    ]);
  }

  async subscribe(): Promise<void> {
    throw new Error('the CLI does not consume messages');
  }

  async handle(): Promise<void> {
    throw new Error('the CLI does not serve commands');
  }

  async request(): Promise<never> {
    throw new Error('the CLI does not send commands');
  }

  health(): BusHealth {
    return { ok: true, transport: 'in-process', detail: 'cli: PostgreSQL NOTIFY only' };
  }

  async close(): Promise<void> {}
}
