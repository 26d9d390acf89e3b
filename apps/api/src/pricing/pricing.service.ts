// Prices and tenant overrides through the pricing service's commands.
import { Injectable } from '@nestjs/common';
import {
  Commands,
  type PricingModelGetResponse,
  type PricingModelsListResponse,
  type PricingOverrideAddRequest,
  type PricingOverridesResponse,
  type PricingRepriceRequest,
  type PricingUnpricedListResponse,
  type RepriceRunsListResponse,
  type RepriceRunView,
} from '@spendops/contracts';
import { CommandClient } from '../common/command-client';
import type { AddOverrideBody, RepriceBody } from './pricing.dto';

@Injectable()
export class PricingGateway {
  constructor(private readonly commands: CommandClient) {}

  listModels(provider?: string): Promise<PricingModelsListResponse> {
    return this.commands.call('pricing', Commands.pricingModelsList, { provider: provider || undefined });
  }

  getModel(provider: string, model: string): Promise<PricingModelGetResponse> {
    return this.commands.call('pricing', Commands.pricingModelGet, { provider, model });
  }

  unpriced(): Promise<PricingUnpricedListResponse> {
    return this.commands.call('pricing', Commands.pricingUnpricedList, {});
  }

  overrides(): Promise<PricingOverridesResponse> {
    return this.commands.call('pricing', Commands.pricingOverridesList, {});
  }

  addOverride(body: AddOverrideBody, actor: string): Promise<PricingOverridesResponse> {
    const request: PricingOverrideAddRequest = { ...body, actor };
    return this.commands.call('pricing', Commands.pricingOverridesAdd, request);
  }

  deleteOverride(id: number, actor: string): Promise<PricingOverridesResponse> {
    return this.commands.call('pricing', Commands.pricingOverridesDelete, { id, actor });
  }

  /** Starts a run; the pricing service answers at once with it (status running). */
  startReprice(body: RepriceBody, actor: string): Promise<RepriceRunView> {
    const request: PricingRepriceRequest = { ...body, actor };
    return this.commands.call('pricing', Commands.pricingRepriceStart, request);
  }

  repriceRun(id: string): Promise<RepriceRunView> {
    return this.commands.call('pricing', Commands.pricingRepriceRunGet, { id });
  }

  repriceRuns(limit: number): Promise<RepriceRunsListResponse> {
    return this.commands.call('pricing', Commands.pricingRepriceRunsList, { limit });
  }

  /**
   * The run once it is no longer running, or as last seen when `waitMs` passes first. Polls its row (25 ms,
   * doubling to 500 ms); a poll that fails ends the wait with what is known, as the run itself goes on.
   */
  async awaitRun(run: RepriceRunView, waitMs: number): Promise<RepriceRunView> {
    const deadline = Date.now() + waitMs;
    for (
      let delay = 25;
      run.status === 'running' && Date.now() < deadline;
      delay = Math.min(delay * 2, 500)
    ) {
      await new Promise((resolve) =>
        setTimeout(resolve, Math.min(delay, Math.max(0, deadline - Date.now()))),
      );
      try {
        run = await this.repriceRun(run.id);
      } catch {
        break;
      }
    }
    return run;
  }
}
