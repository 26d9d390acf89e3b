// Relays key changes written outside this service (the `spendops keys` CLI on the same database) to the bus as
// `auth.key.changed.v1` (through KeyService.announce), so every proxy's replica applies them. A NOTIFY wakes it at once; a poll of
// `updated_at` every second is the backstop for notifications missed while the listener reconnects.
import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { KEY_CHANGED_PG_CHANNEL, type KeyChangedV1 } from '@spendops/contracts';
import { JsonLogger } from '@spendops/observability';
import { DATABASE_CONNECTION, type DatabaseConnection } from '@spendops/persistence';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { KeyService } from './key.service';

const log = new JsonLogger('auth.key-relay');
type Change = KeyChangedV1['change'];

@Injectable()
export class KeyChangeRelay implements OnApplicationBootstrap, OnApplicationShutdown {
  private listener: Client | null = null;
  private poller: NodeJS.Timeout | null = null;
  private watermark = new Date(0).toISOString();
  private stopped = false;

  constructor(
    private readonly keys: KeyService,
    private readonly dataSource: DataSource,
    @Inject(DATABASE_CONNECTION) private readonly connection: DatabaseConnection,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const rows: { max: string | null }[] = await this.dataSource.query(
      'SELECT max(updated_at)::text AS max FROM api_keys',
    );
    if (rows[0]?.max) this.watermark = rows[0].max;
    await this.listen();
    this.poller = setInterval(() => void this.poll(), 1000);
    this.poller.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.poller) clearInterval(this.poller);
    await this.listener?.end().catch(() => undefined);
  }

  private async listen(): Promise<void> {
    const client = new Client({ connectionString: this.connection.url });
    client.on('notification', (msg) => void this.onNotify(msg.payload ?? ''));
    client.on('error', () => {
      this.listener = null;
      if (!this.stopped) setTimeout(() => void this.listen(), 1000).unref();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${KEY_CHANGED_PG_CHANNEL}`);
      this.listener = client;
    } catch (err) {
      log.warn('key change listener unavailable; polling only', { error: (err as Error).message });
      await client.end().catch(() => undefined);
      if (!this.stopped) setTimeout(() => void this.listen(), 1000).unref();
    }
  }

  private async onNotify(payload: string): Promise<void> {
    let parsed: { id?: unknown; change?: unknown };
    try {
      parsed = JSON.parse(payload) as { id?: unknown; change?: unknown };
    } catch {
      return;
    }
    if (typeof parsed.id !== 'string') return;
    await this.relay(parsed.id, (parsed.change as Change) ?? 'policy_updated');
  }

  private async poll(): Promise<void> {
    try {
      const rows: { id: string; updated_at: string }[] = await this.dataSource.query(
        'SELECT id, updated_at::text AS updated_at FROM api_keys WHERE updated_at > $1::timestamptz ORDER BY updated_at',
        [this.watermark],
      );
      for (const row of rows) {
        await this.relay(row.id, 'policy_updated');
        this.watermark = row.updated_at;
      }
    } catch (err) {
      log.warn('key change poll failed', { error: (err as Error).message });
    }
  }

  private async relay(id: string, change: Change): Promise<void> {
    const key = await this.keys.resolve(id);
    // Changes made through this service were announced by KeyService itself; relay only the others.
    if (!key || this.keys.hasPublished(id, key.version)) return;
    await this.keys.announce(key.status === 'revoked' ? 'revoked' : change, key);
  }
}
