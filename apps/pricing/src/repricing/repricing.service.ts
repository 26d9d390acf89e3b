// Re-pricing as events: selected stored events are priced again with the prices in force now, and each one whose
// cost changed is published as `usage.repriced.v1` for the ledger to append as `UsageRepriced`. Pricing never
// writes the ledger's tables, so this works the same in one process and across machines.
import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  Topics,
  type CostFields,
  type PricingRepriceRequest,
  type PricingRepriceResponse,
  type UsageRepricedV1,
} from '@spendops/contracts';
import { MESSAGE_BUS, type MessageBus } from '@spendops/messaging';
import { Decimal, formatDecimal, ZERO } from '@spendops/money';
import { PricingEngine } from '../engine/pricing-engine';
import { PricingCommandError } from '../pricing-command.error';
import { REPRICE_SOURCE, type RepriceEventSource, type RepriceSelection } from './reprice-source';
import { REPRICE_RUNS, type RepriceRunStore } from './reprice-runs';

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;

@Injectable()
export class RepricingService {
  private readonly logger = new Logger('pricing');

  constructor(
    private readonly engine: PricingEngine,
    @Inject(REPRICE_SOURCE) private readonly source: RepriceEventSource,
    @Inject(REPRICE_RUNS) private readonly runs: RepriceRunStore,
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
  ) {}

  /** `pricing.reprice`: validates the request (PricingCommandError 400) and runs it. */
  async reprice(req: PricingRepriceRequest, trigger = 'manual'): Promise<PricingRepriceResponse> {
    return (await this.run(selectionOf(req ?? {}), trigger, req?.actor || 'unknown'))!;
  }

  /**
   * After a price change (override added or deleted, catalog imported or activated): re-price the events that
   * had no price. With `claim`, only the first instance to see this catalog + override set (and catalog
   * activation, since a version can be activated again) does it.
   */
  async repriceUnpriced(
    trigger: string,
    actor: string,
    claim = false,
    activation = 0,
  ): Promise<PricingRepriceResponse | null> {
    if (!(await this.source.available())) return null;
    const key = `unpriced:${this.engine.catalog.version}+ov${this.engine.overrides.version}@${activation}`;
    return this.run({ unpricedOnly: true }, trigger, actor, claim ? key : undefined);
  }

  private async run(
    selection: RepriceSelection,
    trigger: string,
    actor: string,
    claim?: string,
  ): Promise<PricingRepriceResponse | null> {
    // One snapshot of the prices for the whole run, whatever reloads meanwhile.
    const engine = new PricingEngine(this.engine.catalog, this.engine.overrides);
    const catalogVersion = engine.catalog.version;
    const overridesVersion = engine.overrides.version;
    const runId = await this.runs.start({
      claim,
      trigger,
      actor,
      selection: describe(selection),
      catalogVersion,
      overridesVersion,
    });
    if (runId === null) return null;
    let examined = 0;
    let changed = 0;
    let before: Decimal = ZERO;
    let after: Decimal = ZERO;
    const end = () => ({
      examined,
      changed,
      beforeUsd: formatDecimal(before),
      afterUsd: formatDecimal(after),
    });
    try {
      for await (const page of this.source.pages(selection)) {
        for (const ev of page) {
          examined++;
          const cost = engine.price(ev.meta, ev.usage);
          if (!costChanged(ev.cost, cost)) continue;
          changed++;
          before = before.plus(orZero(ev.cost.total_cost_usd));
          after = after.plus(orZero(cost.total_cost_usd));
          const msg: UsageRepricedV1 = {
            request_id: ev.request_id,
            previous: ev.cost,
            cost,
            reason: `${trigger} (run ${runId})`,
            actor,
            run_id: runId,
            catalog_version: catalogVersion,
            overrides_version: overridesVersion,
          };
          // Idempotent downstream: the same run re-publishing an event yields the same message id.
          await this.bus.publish(Topics.usageRepriced, msg, {
            messageId: `reprice:${runId}:${ev.request_id}`,
          });
        }
      }
    } catch (err) {
      await this.runs.finish(runId, { ...end(), error: err instanceof Error ? err.message : String(err) });
      throw err;
    }
    await this.runs.finish(runId, end());
    if (changed > 0)
      this.logger.log(
        `re-priced ${changed} of ${examined} events (${trigger}, run ${runId}, ${catalogVersion}+ov${overridesVersion})`,
      );
    return {
      run_id: runId,
      examined,
      changed,
      before_usd: formatDecimal(before),
      after_usd: formatDecimal(after),
      catalog_version: catalogVersion,
      overrides_version: overridesVersion,
    };
  }
}

/** Go's rule: a re-pricing is a change when the total, its source or the match differ. */
export function costChanged(old: CostFields, next: CostFields): boolean {
  const a = old.total_cost_usd;
  const b = next.total_cost_usd;
  const sameTotal = a === null || b === null ? a === b : new Decimal(a).equals(new Decimal(b));
  return !sameTotal || old.cost_source !== next.cost_source || old.pricing_matched !== next.pricing_matched;
}

function orZero(s: string | null): Decimal {
  return s === null ? ZERO : new Decimal(s);
}

function selectionOf(req: PricingRepriceRequest): RepriceSelection {
  const time = (name: 'from' | 'to'): Date | undefined => {
    const v = req[name];
    if (v === undefined || v === '') return undefined;
    if (typeof v !== 'string' || !RFC3339.test(v) || Number.isNaN(Date.parse(v)))
      throw new PricingCommandError(`${name} must be an RFC 3339 time`, 400);
    return new Date(v);
  };
  const from = time('from');
  const to = time('to');
  const unpricedOnly = req.unpriced_only === true;
  if (!unpricedOnly && (!from || !to))
    throw new PricingCommandError('from and to are required (or unpriced_only)', 400);
  if (from && to && from >= to) throw new PricingCommandError('from must be before to', 400);
  for (const k of ['model', 'provider'] as const) {
    if (req[k] !== undefined && typeof req[k] !== 'string')
      throw new PricingCommandError(`${k} must be a string`, 400);
  }
  const sel: RepriceSelection = { unpricedOnly };
  if (from) sel.from = from;
  if (to) sel.to = to;
  if (req.model) sel.model = req.model;
  if (req.provider) sel.provider = req.provider;
  return sel;
}

function describe(s: RepriceSelection): Record<string, unknown> {
  return {
    unpriced_only: s.unpricedOnly,
    from: s.from?.toISOString(),
    to: s.to?.toISOString(),
    model: s.model,
    provider: s.provider,
  };
}
