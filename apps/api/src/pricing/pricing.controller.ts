import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Post,
  Query,
  Res,
  UseFilters,
  UseGuards,
  UseInterceptors,
  UsePipes,
} from '@nestjs/common';
import type {
  PricingModelGetResponse,
  PricingModelsListResponse,
  PricingOverridesResponse,
  PricingUnpricedListResponse,
  RepriceRunsListResponse,
  RepriceRunView,
} from '@spendops/contracts';
import { AdminAuthGuard } from '../admin-token/admin-auth.guard';
import { ApiError, badParam } from '../common/api-error';
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

  /**
   * Re-prices stored events with the prices in force now (each changed event gets a UsageRepriced) as a run
   * the pricing service carries on by itself. Waits up to `?wait=` seconds (0..60, default 5) for it: 200 with
   * the finished run, or 202 with the running run and `Location` of the run to poll; a run that failed within
   * the wait is a 502 naming it. The body is the run plus `run_id` (= id), as the synchronous answer had it.
   */
  @Post('reprice')
  async reprice(
    @Body() body: RepriceBody,
    @Query() query: Record<string, unknown>,
    @Actor() actor: string,
    @Res({ passthrough: true }) reply: StatusReply,
  ): Promise<RepriceRunView & { run_id: string }> {
    const { wait, ...rest } = singleValued(query);
    const unknown = Object.keys(rest)[0];
    if (unknown !== undefined) throw badParam(unknown, 'unknown parameter');
    const waitMs = wholeNumber('wait', wait, 5, 60) * 1000;
    // The pricing service checks these too; here the 400 names the field.
    if (!body.unpriced_only && (!body.from || !body.to))
      throw badParam(body.from ? 'to' : 'from', 'required unless unpriced_only is true');
    if (body.from && body.to && Date.parse(body.from) >= Date.parse(body.to))
      throw badParam('to', 'must be after from');
    const run = await this.pricing.awaitRun(await this.pricing.startReprice(body, actor), waitMs);
    const location = `/api/v1/pricing/reprice-runs/${run.id}`;
    if (run.status === 'failed')
      throw new ApiError(502, `re-pricing run ${run.id} failed: ${run.error ?? 'unknown error'}`);
    if (run.status === 'running') reply.status(202).header('Location', location).header('Retry-After', '1');
    else reply.status(200).header('Content-Location', location);
    return { ...run, run_id: run.id };
  }

  /** Re-pricing runs, newest first (`?limit=` 1..200, default 50). */
  @Get('reprice-runs')
  repriceRuns(@Query() query: Record<string, unknown>): Promise<RepriceRunsListResponse> {
    const { limit, ...rest } = singleValued(query);
    const unknown = Object.keys(rest)[0];
    if (unknown !== undefined) throw badParam(unknown, 'unknown parameter');
    return this.pricing.repriceRuns(wholeNumber('limit', limit, 50, 200, 1));
  }

  /** One re-pricing run: running (with its counts so far), succeeded or failed (with the error). */
  @Get('reprice-runs/:id')
  repriceRun(@Param('id') id: string): Promise<RepriceRunView> {
    if (!/^[1-9]\d{0,17}$/.test(id)) throw badParam('id', 'want a positive integer');
    return this.pricing.repriceRun(id);
  }
}

/** The part of Fastify's reply the re-pricing route sets (Nest sends the returned body). */
interface StatusReply {
  status(code: number): StatusReply;
  header(name: string, value: string): StatusReply;
}

/** An optional whole-number query parameter within [min, max]. */
function wholeNumber(
  name: string,
  value: string | undefined,
  fallback: number,
  max: number,
  min = 0,
): number {
  if (value === undefined) return fallback;
  const n = /^\d{1,6}$/.test(value) ? Number(value) : NaN;
  if (!(n >= min && n <= max)) throw badParam(name, `want a whole number from ${min} to ${max}`);
  return n;
}
