// Budget management through the ledger's commands; every change carries its actor (the ledger's events keep it).
import { HttpStatus, Injectable } from '@nestjs/common';
import {
  Commands,
  type BudgetAlertView,
  type BudgetReply,
  type BudgetsAlertsReply,
  type BudgetsAlertsRequest,
  type BudgetsCreateReply,
  type BudgetsCreateRequest,
  type BudgetsDeleteRequest,
  type BudgetsGetRequest,
  type BudgetsListReply,
  type BudgetsListRequest,
  type BudgetsUpdateRequest,
  type BudgetView,
} from '@spendops/contracts';
import { validateBudgetSpec, type FieldError } from '@spendops/budgets';
import { ApiError } from '../common/api-error';
import { BudgetCommands } from './budget-commands';
import type { BudgetFieldsDto, CreateBudgetBody, PatchBudgetBody } from './budget.dto';

/** The created budget with its webhook signing secret (shown in this answer only). */
export type CreatedBudget = BudgetView & { webhook_secret: string };

/** Budget ids are `bud_` + 16 lowercase hex; anything else cannot name a budget. */
export const BUDGET_ID = /^bud_[0-9a-f]{16}$/;

function knownShape(id: string): string {
  if (!BUDGET_ID.test(id)) throw new ApiError(HttpStatus.NOT_FOUND, `budget not found: ${id.slice(0, 64)}`);
  return id;
}

/** The shared budget rules (libs/budgets, also the CLI's, the config file's and the ledger's): a 400 naming the first field. */
function assertValid(body: Record<string, unknown>, partial: boolean): void {
  const checked = partial ? validateBudgetSpec(body, true) : validateBudgetSpec(body);
  if (!checked.ok) throw problemsError(checked.errors);
}

export function problemsError(problems: FieldError[]): ApiError {
  return new ApiError(
    HttpStatus.BAD_REQUEST,
    problems.map((p) => `${p.field}: ${p.message}`).join('; '),
    problems[0]?.field,
  );
}

/** A DTO instance as the plain object the ledger gets (only the fields given). */
function plain(body: BudgetFieldsDto): Record<string, unknown> {
  return JSON.parse(JSON.stringify(body)) as Record<string, unknown>;
}

@Injectable()
export class BudgetsService {
  constructor(private readonly commands: BudgetCommands) {}

  async create(body: CreateBudgetBody, actor: string): Promise<CreatedBudget> {
    const spec = plain(body);
    assertValid(spec, false);
    const reply = await this.commands.call<BudgetsCreateRequest, BudgetsCreateReply>(Commands.budgetsCreate, {
      spec,
      actor,
    });
    return { ...reply.budget, webhook_secret: reply.webhook_secret };
  }

  async list(tenant?: string): Promise<BudgetView[]> {
    const request: BudgetsListRequest = tenant ? { tenant } : {};
    return (await this.commands.call<BudgetsListRequest, BudgetsListReply>(Commands.budgetsList, request))
      .budgets;
  }

  async get(id: string): Promise<BudgetView> {
    return (
      await this.commands.call<BudgetsGetRequest, BudgetReply>(Commands.budgetsGet, {
        id: knownShape(id),
      })
    ).budget;
  }

  async patch(id: string, body: PatchBudgetBody, actor: string): Promise<BudgetView> {
    knownShape(id);
    const patch = plain(body);
    assertValid(patch, true);
    if (Object.keys(patch).length === 0) return this.get(id);
    const reply = await this.commands.call<BudgetsUpdateRequest, BudgetReply>(Commands.budgetsUpdate, {
      id,
      patch,
      actor,
    });
    return reply.budget;
  }

  async remove(id: string, actor: string): Promise<void> {
    knownShape(id);
    await this.commands.call<BudgetsDeleteRequest, BudgetReply>(Commands.budgetsDelete, { id, actor });
  }

  async alerts(id: string): Promise<BudgetAlertView[]> {
    // The alert history lives with the notifier; ask the budget first so an unknown id is a 404, not [].
    await this.get(id);
    const reply = await this.commands.call<BudgetsAlertsRequest, BudgetsAlertsReply>(Commands.budgetsAlerts, {
      budget_id: id,
    });
    return reply.alerts;
  }
}
