import { Controller, Get, Query, UseFilters, UseGuards, UseInterceptors } from '@nestjs/common';
import { AdminAuthGuard } from '../admin-token/admin-auth.guard';
import { ApiExceptionFilter } from '../common/api-exception.filter';
import { NoStoreInterceptor } from '../common/no-store.interceptor';
import { singleValued } from '../common/query';
import { validateAs } from '../common/validation';
import { AnalyticsQueryDto } from './analytics-query.dto';
import { AnalyticsService, type AnalyticsResponse } from './analytics.service';

@Controller('api/v1')
@UseGuards(AdminAuthGuard)
@UseFilters(ApiExceptionFilter)
@UseInterceptors(NoStoreInterceptor)
export class AnalyticsController {
  constructor(private readonly analytics: AnalyticsService) {}

  /** Totals and a time series: ?from&to&interval=hour|day&group_by=provider,model,dim:team&tenant_id */
  @Get('analytics')
  get(@Query() query: Record<string, unknown>): Promise<AnalyticsResponse> {
    return this.analytics.query(validateAs(AnalyticsQueryDto, singleValued(query)));
  }
}
