import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Patch,
  Post,
  Query,
  UseFilters,
  UseGuards,
  UseInterceptors,
  UsePipes,
} from '@nestjs/common';
import type { KeyAuditEntry, KeyView } from '@spendops/contracts';
import { AdminAuthGuard } from '../admin-token/admin-auth.guard';
import { Actor } from '../common/actor';
import { ApiExceptionFilter } from '../common/api-exception.filter';
import { NoStoreInterceptor } from '../common/no-store.interceptor';
import { singleValued } from '../common/query';
import { apiValidationPipe, validateAs } from '../common/validation';
import { AuditQuery, CreateKeyBody, ListKeysQuery, PatchKeyBody, RotateKeyBody } from './key.dto';
import { KeysService, type CreatedKey, type RotatedKey } from './keys.service';

@Controller('api/v1')
@UseGuards(AdminAuthGuard)
@UseFilters(ApiExceptionFilter)
@UseInterceptors(NoStoreInterceptor)
@UsePipes(apiValidationPipe())
export class KeysController {
  constructor(private readonly keys: KeysService) {}

  @Get('keys')
  async list(@Query() query: Record<string, unknown>): Promise<{ keys: KeyView[] }> {
    const q = validateAs(ListKeysQuery, singleValued(query));
    return { keys: await this.keys.list(q.tenant) };
  }

  /** 201 with the full key: shown once, never again. */
  @Post('keys')
  create(@Body() body: CreateKeyBody, @Actor() actor: string): Promise<CreatedKey> {
    return this.keys.create(body, actor);
  }

  @Get('keys/:id')
  get(@Param('id') id: string): Promise<KeyView> {
    return this.keys.get(id);
  }

  @Patch('keys/:id')
  patch(@Param('id') id: string, @Body() body: PatchKeyBody, @Actor() actor: string): Promise<KeyView> {
    return this.keys.patch(id, body, actor);
  }

  /** Revokes the key (it stays listed, with status revoked). */
  @Delete('keys/:id')
  @HttpCode(204)
  async revoke(@Param('id') id: string, @Actor() actor: string): Promise<void> {
    await this.keys.revoke(id, actor);
  }

  @Post('keys/:id/activate')
  @HttpCode(200)
  activate(@Param('id') id: string, @Actor() actor: string): Promise<KeyView> {
    return this.keys.activate(id, actor);
  }

  /** A new secret; the previous one keeps working for grace_seconds (default 0). */
  @Post('keys/:id/rotate')
  @HttpCode(200)
  rotate(@Param('id') id: string, @Body() body: RotateKeyBody, @Actor() actor: string): Promise<RotatedKey> {
    return this.keys.rotate(id, body?.grace_seconds ?? 0, actor);
  }

  @Get('audit')
  async audit(@Query() query: Record<string, unknown>): Promise<{ audit: KeyAuditEntry[] }> {
    const q = validateAs(AuditQuery, singleValued(query));
    return { audit: await this.keys.audit(q.key_id) };
  }
}
