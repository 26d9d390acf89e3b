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
import type { BudgetAlertView, BudgetView } from '@spendops/contracts';
import { AdminAuthGuard } from '../admin-token/admin-auth.guard';
import { Actor } from '../common/actor';
import { ApiExceptionFilter } from '../common/api-exception.filter';
import { NoStoreInterceptor } from '../common/no-store.interceptor';
import { singleValued } from '../common/query';
import { apiValidationPipe, validateAs } from '../common/validation';
import { CreateBudgetBody, ListBudgetsQuery, PatchBudgetBody } from './budget.dto';
import { BudgetsService, type CreatedBudget } from './budgets.service';

/** /api/v1/budgets: definitions with their current period's spend, and each budget's alert history. */
@Controller('api/v1/budgets')
@UseGuards(AdminAuthGuard)
@UseFilters(ApiExceptionFilter)
@UseInterceptors(NoStoreInterceptor)
@UsePipes(apiValidationPipe())
export class BudgetsController {
  constructor(private readonly budgets: BudgetsService) {}

  /** ?tenant= narrows to the budgets whose scope names that tenant. */
  @Get()
  async list(@Query() query: Record<string, unknown>): Promise<{ budgets: BudgetView[] }> {
    const q = validateAs(ListBudgetsQuery, singleValued(query));
    return { budgets: await this.budgets.list(q.tenant) };
  }

  /** 201 with the budget and its webhook_secret: shown once, never again. */
  @Post()
  create(@Body() body: CreateBudgetBody, @Actor() actor: string): Promise<CreatedBudget> {
    return this.budgets.create(body, actor);
  }

  @Get(':id')
  get(@Param('id') id: string): Promise<BudgetView> {
    return this.budgets.get(id);
  }

  @Patch(':id')
  patch(@Param('id') id: string, @Body() body: PatchBudgetBody, @Actor() actor: string): Promise<BudgetView> {
    return this.budgets.patch(id, body, actor);
  }

  @Delete(':id')
  @HttpCode(204)
  async remove(@Param('id') id: string, @Actor() actor: string): Promise<void> {
    await this.budgets.remove(id, actor);
  }

  @Get(':id/alerts')
  async alerts(@Param('id') id: string): Promise<{ alerts: BudgetAlertView[] }> {
    return { alerts: await this.budgets.alerts(id) };
  }
}
