// Prices and tenant overrides through the pricing service's commands.
import { Injectable } from '@nestjs/common';
import {
  Commands,
  type PricingModelGetResponse,
  type PricingModelsListResponse,
  type PricingOverrideAddRequest,
  type PricingOverridesResponse,
  type PricingUnpricedListResponse,
} from '@spendops/contracts';
import { CommandClient } from '../common/command-client';
import type { AddOverrideBody } from './pricing.dto';

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

  addOverride(body: AddOverrideBody): Promise<PricingOverridesResponse> {
    const request: PricingOverrideAddRequest = { ...body };
    return this.commands.call('pricing', Commands.pricingOverridesAdd, request);
  }

  deleteOverride(id: number): Promise<PricingOverridesResponse> {
    return this.commands.call('pricing', Commands.pricingOverridesDelete, { id });
  }
}
