import { Controller, Get, UseFilters, UseGuards, UseInterceptors } from '@nestjs/common';
import { AdminAuthGuard } from '../admin-token/admin-auth.guard';
import { ApiExceptionFilter } from '../common/api-exception.filter';
import { NoStoreInterceptor } from '../common/no-store.interceptor';
import { OPENAPI_DOCUMENT } from './openapi.document';

@Controller('api/v1')
@UseGuards(AdminAuthGuard)
@UseFilters(ApiExceptionFilter)
@UseInterceptors(NoStoreInterceptor)
export class OpenApiController {
  @Get('openapi.json')
  document(): typeof OPENAPI_DOCUMENT {
    return OPENAPI_DOCUMENT;
  }
}
