export { ApiModule, API_MIGRATIONS } from './api.module';
export { API_OPTIONS, type ApiOptions } from './api.options';
export { AdminTokenService, sha256Hex } from './admin-token/admin-token.service';
export { AdminAuthGuard } from './admin-token/admin-auth.guard';
export { OPENAPI_DOCUMENT } from './openapi/openapi.document';
export { ApiExceptionFilter } from './common/api-exception.filter';
