import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Post,
  Query,
  UseFilters,
  UseGuards,
  UseInterceptors,
  UsePipes,
} from '@nestjs/common';
import type {
  PricingModelGetResponse,
  PricingModelsListResponse,
  PricingOverridesResponse,
  PricingRepriceResponse,
  PricingUnpricedListResponse,
} from '@spendops/contracts';
import { AdminAuthGuard } from '../admin-token/admin-auth.guard';
import { badParam } from '../common/api-error';
import { Actor } from '../common/actor';
import { ApiExceptionFilter } from '../common/api-exception.filter';
import { NoStoreInterceptor } from '../common/no-store.interceptor';
import { singleValued } from '../common/query';
import { apiValidationPipe, validateAs } from '../common/validation';
import { AddOverrideBody, ModelsQuery, RepriceBody } from './pricing.dto';
import { PricingGateway } from './pricing.service';

@Controller('api/v1/pricing')
@UseGuards(AdminAuthGuard)
@UseFilters(ApiExceptionFilter)
@UseInterceptors(NoStoreInterceptor)
@UsePipes(apiValidationPipe())
export class PricingController {
  constructor(private readonly pricing: PricingGateway) {}

  /** Every priced model with its current price and expense tier; ?provider= narrows. */
  @Get('models')
  listModels(@Query() query: Record<string, unknown>): Promise<PricingModelsListResponse> {
    return this.pricing.listModels(validateAs(ModelsQuery, singleValued(query)).provider);
  }

  /** One model with every price period; the model name may contain "/" (e.g. meta-llama/Llama-3.3-70B-Instruct). */
  @Get('models/:provider/*')
  getModel(@Param('provider') provider: string, @Param('*') model: string): Promise<PricingModelGetResponse> {
    if (!model) throw badParam('model', 'missing in the path');
    return this.pricing.getModel(provider, model);
  }

  /** Models seen without a price since the pricing service started, busiest first. */
  @Get('unpriced')
  unpriced(): Promise<PricingUnpricedListResponse> {
    return this.pricing.unpriced();
  }

  @Get('overrides')
  overrides(): Promise<PricingOverridesResponse> {
    return this.pricing.overrides();
  }

  /** 201 with the override set after the change. */
  @Post('overrides')
  addOverride(@Body() body: AddOverrideBody, @Actor() actor: string): Promise<PricingOverridesResponse> {
    return this.pricing.addOverride(body, actor);
  }

  @Delete('overrides/:id')
  @HttpCode(204)
  async deleteOverride(@Param('id') id: string, @Actor() actor: string): Promise<void> {
    if (!/^[1-9]\d{0,15}$/.test(id)) throw badParam('id', 'want a positive integer');
    await this.pricing.deleteOverride(Number(id), actor);
  }

  /** Re-prices stored events with the prices in force now; each changed event gets a UsageRepriced (audit). */
  @Post('reprice')
  @HttpCode(200)
  reprice(@Body() body: RepriceBody, @Actor() actor: string): Promise<PricingRepriceResponse> {
    return this.pricing.reprice(body, actor);
  }
}
