import { Controller, Get, Param, UseFilters, UseGuards, UseInterceptors } from '@nestjs/common';
import { AdminAuthGuard } from '../admin-token/admin-auth.guard';
import { ApiExceptionFilter } from '../common/api-exception.filter';
import { NoStoreInterceptor } from '../common/no-store.interceptor';
import { RepricingsService, type RepricingView } from './repricings.service';

/** GET /api/v1/events/{request_id}/repricings: the request's UsageRepriced events, oldest first. */
@Controller('api/v1/events')
@UseGuards(AdminAuthGuard)
@UseFilters(ApiExceptionFilter)
@UseInterceptors(NoStoreInterceptor)
export class RepricingsController {
  constructor(private readonly repricings: RepricingsService) {}

  @Get(':request_id/repricings')
  async list(@Param('request_id') requestId: string): Promise<{ repricings: RepricingView[] }> {
    return { repricings: await this.repricings.history(requestId) };
  }
}
