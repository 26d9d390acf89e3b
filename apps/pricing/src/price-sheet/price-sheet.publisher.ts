// Publishes the reservation price sheet at start and whenever the engine's catalog or override set changes
// (a change made here, by another instance or by the CLI reaches the engine through PricingService's reload),
// and serves it by command, so proxies never price on the request path.
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { Commands, Topics, type PriceSheetV1 } from '@spendops/contracts';
import { MESSAGE_BUS, type MessageBus } from '@spendops/messaging';
import { PricingEngine } from '../engine/pricing-engine';
import { buildPriceSheet } from './price-sheet.builder';

export interface PriceSheetOptions {
  /** How often the engine's versions are compared with the published sheet's (default 1000 ms). */
  checkEveryMs?: number;
  /** The sheet is republished this often even unchanged, for prices that take effect on a date (default 1 h). */
  republishEveryMs?: number;
}
export const PRICE_SHEET_OPTIONS = Symbol('PRICE_SHEET_OPTIONS');

@Injectable()
export class PriceSheetPublisher implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('PriceSheet');
  private sheet: PriceSheetV1 | null = null;
  private publishedAt = 0;
  private publishedVersion: string | undefined;
  private busy = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly engine: PricingEngine,
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    @Inject(PRICE_SHEET_OPTIONS) private readonly options: PriceSheetOptions,
  ) {}

  /** The sheet of the engine's current catalog and overrides (rebuilt when either changed). */
  current(): PriceSheetV1 {
    const version = `${this.engine.catalog.version}+ov${this.engine.overrides.version}`;
    if (this.sheet?.version !== version)
      this.sheet = buildPriceSheet(this.engine.catalog, this.engine.overrides);
    return this.sheet;
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.bus.handle(Commands.pricingPriceSheet, async () => this.current());
    await this.publishIfChanged(true);
    this.timer = setInterval(() => void this.publishIfChanged(false), this.options.checkEveryMs ?? 1000);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** Publishes when the versions changed since the last publish, or when forced or due (rebuilt as of now). */
  async publishIfChanged(force: boolean): Promise<boolean> {
    if (this.busy) return false;
    const due = Date.now() - this.publishedAt >= (this.options.republishEveryMs ?? 3_600_000);
    if (due) this.sheet = null;
    const sheet = this.current();
    if (!force && !due && sheet.version === this.publishedVersion) return false;
    this.busy = true;
    try {
      await this.bus.publish(Topics.priceSheet, sheet);
      this.publishedVersion = sheet.version;
      this.publishedAt = Date.now();
      return true;
    } catch (e) {
      this.logger.warn(`price sheet publish: ${(e as Error).message}`); // retried on the next check
      this.publishedVersion = undefined;
      return false;
    } finally {
      this.busy = false;
    }
  }
}
