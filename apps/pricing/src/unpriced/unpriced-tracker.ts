// Models seen without a catalog price since the service started (the ledger holds the durable list).
import { Injectable, Logger } from '@nestjs/common';
import type { UnpricedModelView } from '@spendops/contracts';

/** Clients choose model names: past this many, new names share one "(other models)" bucket. */
export const MAX_UNPRICED_TRACKED = 1000;
const OTHER = { provider: '*', model: '(other models)' };

@Injectable()
export class UnpricedTracker {
  private readonly logger = new Logger('pricing');
  private readonly seen = new Map<string, UnpricedModelView>();

  /** Counts one event; `costKnown` when it still had a (provider-reported) cost. */
  note(provider: string, model: string, costKnown: boolean): void {
    let key = `${provider}\u0000${model}`;
    let entry = this.seen.get(key);
    if (!entry && this.seen.size >= MAX_UNPRICED_TRACKED) {
      ({ provider, model } = OTHER);
      key = `${provider}\u0000${model}`;
      entry = this.seen.get(key);
    }
    if (!entry) {
      entry = { provider, model, events: 0, cost_known: 0 };
      this.seen.set(key, entry);
      // Once per model, so a busy unpriced model cannot flood the log.
      this.logger.warn(`no price for model provider=${provider} model=${JSON.stringify(model)}`);
    }
    entry.events++;
    if (costKnown) entry.cost_known++;
  }

  /** Busiest first, then by provider/model. */
  list(): UnpricedModelView[] {
    return [...this.seen.values()]
      .map((e) => ({ ...e }))
      .sort((a, b) => b.events - a.events || cmp(`${a.provider}/${a.model}`, `${b.provider}/${b.model}`));
  }
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
