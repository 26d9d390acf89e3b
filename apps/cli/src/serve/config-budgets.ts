// Applies the config file's `budgets:` at start, in the process that runs the ledger: each budget under an id
// derived from its name (libs/budgets budgetIdFromName), created when missing, updated when the file differs,
// left alone when equal, so restarts are idempotent. Changes carry the actor `config`. Applied in the background
// after start (retrying while the ledger is not serving yet); a bad entry already failed the start at config load. A budget removed from the
// file is not deleted (it may hold alert history): delete it with the CLI or the API.
import {
  Inject,
  Injectable,
  Logger,
  Module,
  type DynamicModule,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import {
  BudgetErrors,
  Commands,
  type BudgetReply,
  type BudgetSpec,
  type BudgetsCreateReply,
  type BudgetsCreateRequest,
  type BudgetsUpdateRequest,
  type BudgetView,
} from '@spendops/contracts';
import {
  MESSAGE_BUS,
  NoCommandHandlerError,
  RemoteCommandError,
  RequestTimeoutError,
  type MessageBus,
} from '@spendops/messaging';
import { BUDGET_SPEC_FIELDS, budgetIdFromName } from '@spendops/budgets';

const CONFIG_BUDGETS = Symbol('CONFIG_BUDGETS');
export const CONFIG_ACTOR = 'config';

/** Every field of a definition; optional ones absent from the file are cleared (null) when the stored has them. */
const FIELDS = BUDGET_SPEC_FIELDS;

export type ConfigBudgetOutcome = 'created' | 'updated' | 'unchanged';

/** The patch that makes `stored` equal `wanted`, or null when they are equal already. */
export function patchFor(stored: BudgetView, wanted: BudgetSpec): Record<string, unknown> | null {
  const patch: Record<string, unknown> = {};
  const s = stored as unknown as Record<string, unknown>;
  const w = wanted as unknown as Record<string, unknown>;
  for (const field of FIELDS) {
    if (JSON.stringify(s[field]) === JSON.stringify(w[field])) continue;
    patch[field] = w[field] === undefined ? null : w[field];
  }
  return Object.keys(patch).length > 0 ? patch : null;
}

const isNotFound = (err: unknown) =>
  err instanceof RemoteCommandError && err.remoteName === BudgetErrors.notFound;

/** Creates or updates one config budget through the ledger's commands. */
export async function applyConfigBudget(bus: MessageBus, spec: BudgetSpec): Promise<ConfigBudgetOutcome> {
  const id = budgetIdFromName(spec.name);
  const get = () => bus.request<object, BudgetReply>(Commands.budgetsGet, { id }).then((r) => r.budget);
  let stored = await get().catch((err: unknown) => (isNotFound(err) ? null : Promise.reject(err)));
  if (!stored) {
    try {
      const request: BudgetsCreateRequest = { spec, actor: CONFIG_ACTOR, id };
      await bus.request<BudgetsCreateRequest, BudgetsCreateReply>(Commands.budgetsCreate, request);
      return 'created';
    } catch (err) {
      // Another ledger process applying the same file created it first: compare with theirs.
      if (!(
        err instanceof RemoteCommandError &&
        err.remoteName === BudgetErrors.invalid &&
        /^id:/.test(err.message)
      ))
        throw err;
      stored = await get();
    }
  }
  const patch = patchFor(stored, spec);
  if (!patch) return 'unchanged';
  const request: BudgetsUpdateRequest = { id, patch, actor: CONFIG_ACTOR };
  await bus.request<BudgetsUpdateRequest, BudgetReply>(Commands.budgetsUpdate, request);
  return 'updated';
}

/** The ledger may not serve the commands yet (its worker thread or process still starting): try again. */
const RETRY_MS = 250;
const GIVE_UP_MS = 120_000;

function notServedYet(err: unknown): boolean {
  return err instanceof NoCommandHandlerError || err instanceof RequestTimeoutError;
}

@Injectable()
export class ConfigBudgetsApplier implements OnApplicationBootstrap {
  private readonly logger = new Logger('ConfigBudgets');
  /** Settles when every budget of the file is applied (or has failed, logged). */
  done: Promise<void> = Promise.resolve();

  constructor(
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    @Inject(CONFIG_BUDGETS) private readonly budgets: BudgetSpec[],
  ) {}

  /** In the background: the start does not wait on the ledger, which may run on another thread or process. */
  onApplicationBootstrap(): void {
    if (this.budgets.length > 0) this.done = this.applyAll();
  }

  private async applyAll(): Promise<void> {
    for (const spec of this.budgets) {
      const id = budgetIdFromName(spec.name);
      const deadline = Date.now() + GIVE_UP_MS;
      for (;;) {
        try {
          const outcome = await applyConfigBudget(this.bus, spec);
          this.logger.log(`config budget "${spec.name}" (${id}): ${outcome}`);
          break;
        } catch (err) {
          if (notServedYet(err) && Date.now() < deadline) {
            await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
            continue;
          }
          const why = err instanceof Error ? err.message : String(err);
          this.logger.error(`config budget "${spec.name}" (${id}) not applied: ${why}`);
          break;
        }
      }
    }
  }
}

@Module({})
export class ConfigBudgetsModule {
  static forRoot(budgets: BudgetSpec[]): DynamicModule {
    return {
      module: ConfigBudgetsModule,
      providers: [{ provide: CONFIG_BUDGETS, useValue: budgets }, ConfigBudgetsApplier],
    };
  }
}
