import { Controller, Get, UseFilters, UseGuards } from '@nestjs/common';
import { AdminAuthGuard } from '../admin-token/admin-auth.guard';
import { ApiExceptionFilter } from '../common/api-exception.filter';
import { OPENAPI_DOCUMENT } from './openapi.document';

@Controller('api/v1')
@UseGuards(AdminAuthGuard)
@UseFilters(ApiExceptionFilter)
export class OpenApiController {
  @Get('openapi.json')
  document(): typeof OPENAPI_DOCUMENT {
    return OPENAPI_DOCUMENT;
  }
}
