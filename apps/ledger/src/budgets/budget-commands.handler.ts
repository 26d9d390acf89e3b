// Serves the budget commands on the bus: check the request's shape, call one BudgetService method, shape the
// reply (contracts: Budgets*Request/Reply). Definitions are validated by the service (validateBudgetSpec).
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import {
  Commands,
  type BudgetReply,
  type BudgetsCreateReply,
  type BudgetsCreateRequest,
  type BudgetsGetRequest,
  type BudgetsListReply,
  type BudgetsSpendSnapshotReply,
  type BudgetsUpdateRequest,
} from '@spendops/contracts';
import { MESSAGE_BUS, type MessageBus } from '@spendops/messaging';
import { BudgetValidationError } from './budget.errors';
import { BudgetService } from './budget.service';

type Request = Record<string, unknown>;

function objectOf(req: unknown): Request {
  return typeof req === 'object' && req !== null && !Array.isArray(req) ? (req as Request) : {};
}

function idOf(req: Request): string {
  if (typeof req.id !== 'string' || req.id === '')
    throw new BudgetValidationError([{ field: 'id', message: 'required' }]);
  return req.id;
}

function actorOf(req: Request): string {
  return typeof req.actor === 'string' && req.actor ? req.actor : 'unknown';
}

@Injectable()
export class BudgetCommandsHandler implements OnModuleInit {
  constructor(
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    private readonly budgets: BudgetService,
  ) {}

  async onModuleInit(): Promise<void> {
    const b = this.budgets;
    await this.bus.handle(Commands.budgetsCreate, async (raw): Promise<BudgetsCreateReply> => {
      const req = objectOf(raw) as Partial<BudgetsCreateRequest> & Request;
      if (req.id !== undefined && typeof req.id !== 'string')
        throw new BudgetValidationError([{ field: 'id', message: 'must be a string' }]);
      return b.create(req.spec, actorOf(req), req.id);
    });
    await this.bus.handle(Commands.budgetsList, async (raw): Promise<BudgetsListReply> => {
      const req = objectOf(raw);
      return { budgets: await b.list(typeof req.tenant === 'string' && req.tenant ? req.tenant : undefined) };
    });
    await this.bus.handle(Commands.budgetsGet, async (raw): Promise<BudgetReply> => {
      const req = objectOf(raw) as Partial<BudgetsGetRequest> & Request;
      return { budget: await b.get(idOf(req)) };
    });
    await this.bus.handle(Commands.budgetsUpdate, async (raw): Promise<BudgetReply> => {
      const req = objectOf(raw) as Partial<BudgetsUpdateRequest> & Request;
      return { budget: await b.update(idOf(req), req.patch ?? {}, actorOf(req)) };
    });
    await this.bus.handle(Commands.budgetsDelete, async (raw): Promise<BudgetReply> => {
      const req = objectOf(raw);
      return { budget: await b.remove(idOf(req), actorOf(req)) };
    });
    await this.bus.handle(Commands.budgetsSpendSnapshot, async (): Promise<BudgetsSpendSnapshotReply> => ({
      budgets: await b.spendSnapshot(),
    }));
  }
}
