// Prices and tenant overrides through the pricing service's commands.
import { Injectable } from '@nestjs/common';
import {
  Commands,
  type PricingModelGetResponse,
  type PricingModelsListResponse,
  type PricingOverrideAddRequest,
  type PricingOverridesResponse,
  type PricingRepriceRequest,
  type PricingRepriceResponse,
  type PricingUnpricedListResponse,
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

  reprice(body: RepriceBody, actor: string): Promise<PricingRepriceResponse> {
    const request: PricingRepriceRequest = { ...body, actor };
    return this.commands.call('pricing', Commands.pricingReprice, request);
  }
}
