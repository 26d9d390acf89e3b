// Re-pricing as events: selected stored events are priced again with the prices in force now, and each one whose
// cost changed is published as `usage.repriced.v1` for the ledger to append as `UsageRepriced`. Pricing never
// writes the ledger's tables, so this works the same in one process and across machines.
// A run is a job: `start` records it and answers at once while the run goes on here, writing its counts and a
// heartbeat per page (and every REPRICE_HEARTBEAT_MS) to `pricing_reprice_runs`, which the admin API polls.
import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import {
  Topics,
  type CostFields,
  type PricingRepriceRequest,
  type PricingRepriceResponse,
  type RepriceRunGetRequest,
  type RepriceRunsListRequest,
  type RepriceRunsListResponse,
  type RepriceRunView,
  type UsageRepricedV1,
} from '@spendops/contracts';
import { MESSAGE_BUS, type MessageBus } from '@spendops/messaging';
import { Decimal, formatDecimal, ZERO } from '@spendops/money';
import { PricingEngine } from '../engine/pricing-engine';
import { PricingCommandError } from '../pricing-command.error';
import { REPRICE_SOURCE, type RepriceEventSource, type RepriceSelection } from './reprice-source';
import { REPRICE_HEARTBEAT_MS, REPRICE_RUNS, type RepriceRunStore } from './reprice-runs';

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;
/** How long a stopping service lets its runs record that they were interrupted. */
const STOP_GRACE_MS = 5_000;

/** A run recorded and about to be executed: its id, selection and snapshot of the prices. */
interface BegunRun {
  id: string;
  selection: RepriceSelection;
  trigger: string;
  actor: string;
  engine: PricingEngine;
}

@Injectable()
export class RepricingService implements OnModuleDestroy {
  private readonly logger = new Logger('pricing');
  /** Runs executing in this process, so a stopping service can end them as failed instead of leaving them. */
  private readonly active = new Map<string, { stop: boolean; done: Promise<unknown> }>();

  constructor(
    private readonly engine: PricingEngine,
    @Inject(REPRICE_SOURCE) private readonly source: RepriceEventSource,
    @Inject(REPRICE_RUNS) private readonly runs: RepriceRunStore,
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
  ) {}

  /** `pricing.reprice`: validates the request (PricingCommandError 400) and runs it to the end. */
  async reprice(req: PricingRepriceRequest, trigger = 'manual'): Promise<PricingRepriceResponse> {
    const run = (await this.begin(selectionOf(req ?? {}), trigger, req?.actor || 'unknown'))!;
    return this.track(run);
  }

  /**
   * `pricing.reprice.start`: validates the request (PricingCommandError 400), records the run and answers with
   * it (status running); the run goes on in this process. Its failure is recorded in its row, not thrown.
   */
  async start(req: PricingRepriceRequest, trigger = 'manual'): Promise<RepriceRunView> {
    const run = (await this.begin(selectionOf(req ?? {}), trigger, req?.actor || 'unknown'))!;
    const view = await this.runs.get(run.id);
    this.track(run).catch(() => undefined); // recorded as failed, and logged, by execute
    return view!;
  }

  /** `pricing.reprice-runs.get`: one run; PricingCommandError 404 when there is none. */
  async getRun(req: RepriceRunGetRequest): Promise<RepriceRunView> {
    const id = String(req?.id ?? '');
    const run = await this.runs.get(id);
    if (!run) throw new PricingCommandError(`no re-pricing run ${id}`, 404);
    return run;
  }

  /** `pricing.reprice-runs.list`: the newest runs first (limit 1..200, default 50). */
  async listRuns(req: RepriceRunsListRequest): Promise<RepriceRunsListResponse> {
    const limit = req?.limit ?? 50;
    if (!Number.isInteger(limit) || limit < 1 || limit > 200)
      throw new PricingCommandError('limit must be an integer from 1 to 200', 400);
    return { runs: await this.runs.list(limit) };
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
    const run = await this.begin({ unpricedOnly: true }, trigger, actor, claim ? key : undefined);
    return run && this.track(run);
  }

  /** A stopping service ends its runs as failed ("interrupted") rather than leaving them to the stale rule. */
  async onModuleDestroy(): Promise<void> {
    if (this.active.size === 0) return;
    for (const a of this.active.values()) a.stop = true;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.active.values()].map((a) => a.done)),
      new Promise((resolve) => (timer = setTimeout(resolve, STOP_GRACE_MS))),
    ]);
    clearTimeout(timer);
  }

  /** Records the run (null when its claim is held elsewhere), with one snapshot of the prices for all of it. */
  private async begin(
    selection: RepriceSelection,
    trigger: string,
    actor: string,
    claim?: string,
  ): Promise<BegunRun | null> {
    const engine = new PricingEngine(this.engine.catalog, this.engine.overrides);
    const id = await this.runs.start({
      claim,
      trigger,
      actor,
      selection: describe(selection),
      catalogVersion: engine.catalog.version,
      overridesVersion: engine.overrides.version,
    });
    return id === null ? null : { id, selection, trigger, actor, engine };
  }

  private track(run: BegunRun): Promise<PricingRepriceResponse> {
    const state = { stop: false, done: Promise.resolve() as Promise<unknown> };
    const done = this.execute(run, state).finally(() => this.active.delete(run.id));
    state.done = done;
    this.active.set(run.id, state);
    return done;
  }

  private async execute(
    { id: runId, selection, trigger, actor, engine }: BegunRun,
    state: { stop: boolean },
  ): Promise<PricingRepriceResponse> {
    const catalogVersion = engine.catalog.version;
    const overridesVersion = engine.overrides.version;
    let examined = 0;
    let changed = 0;
    let before: Decimal = ZERO;
    let after: Decimal = ZERO;
    const counts = () => ({
      examined,
      changed,
      beforeUsd: formatDecimal(before),
      afterUsd: formatDecimal(after),
    });
    // Progress writes in order (a heartbeat never overwrites a later page's counts); `live` false once the
    // row is no longer running (failed as stale while this process was stalled): then this run stops.
    let writes: Promise<void> = Promise.resolve();
    let live = true;
    const beat = (): Promise<void> =>
      (writes = writes
        .then(() => this.runs.progress(runId, counts()))
        .then(
          (ok) => void (live &&= ok),
          (err: unknown) => this.logger.warn(`re-pricing run ${runId}: heartbeat failed: ${messageOf(err)}`),
        ));
    const heartbeat = setInterval(() => void beat(), REPRICE_HEARTBEAT_MS);
    heartbeat.unref();
    try {
      for await (const page of this.source.pages(selection)) {
        for (const ev of page) {
          if (state.stop) throw new Error('interrupted: the pricing service stopped');
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
        await beat();
        if (!live) throw new Error('abandoned: the run was marked failed while it ran (no heartbeat)');
      }
    } catch (err) {
      clearInterval(heartbeat);
      await writes;
      this.logger.error(`re-pricing run ${runId} failed after ${examined} events: ${messageOf(err)}`);
      // The run's own error is what the caller needs; a failure to record it is only logged.
      await this.runs
        .finish(runId, { ...counts(), error: messageOf(err) })
        .catch((e: unknown) => this.logger.warn(`re-pricing run ${runId}: not recorded: ${messageOf(e)}`));
      throw err;
    }
    clearInterval(heartbeat);
    await writes;
    await this.runs.finish(runId, counts());
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

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
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
