// The ledger's budget commands over the bus, failures as HTTP errors: BudgetNotFoundError → 404, a refused
// definition → 400 naming the field the ledger named (`amount_usd: ...`), anything else → 502 "ledger unavailable".
import { HttpStatus, Inject, Injectable, Logger } from '@nestjs/common';
import { BudgetErrors } from '@spendops/contracts';
import { MESSAGE_BUS, RemoteCommandError, type MessageBus } from '@spendops/messaging';
import { ApiError } from '../common/api-error';

/** `scope.dims.team: must be ...` → `scope.dims.team`; `thresholds[2]: ...` → `thresholds[2]`. */
const FIELD_PREFIX = /^([A-Za-z_][\w.[\]-]*): /;

export function budgetHttpError(err: unknown): ApiError {
  if (err instanceof RemoteCommandError) {
    if (err.remoteName === BudgetErrors.notFound) return new ApiError(HttpStatus.NOT_FOUND, err.message);
    if (err.remoteName === BudgetErrors.invalid)
      return new ApiError(HttpStatus.BAD_REQUEST, err.message, FIELD_PREFIX.exec(err.message)?.[1]);
  }
  return new ApiError(HttpStatus.BAD_GATEWAY, 'ledger unavailable');
}

@Injectable()
export class BudgetCommands {
  private readonly logger = new Logger('AdminApi');

  constructor(@Inject(MESSAGE_BUS) private readonly bus: MessageBus) {}

  async call<Req extends object, Res>(command: string, request: Req): Promise<Res> {
    try {
      return await this.bus.request<Req, Res>(command, request);
    } catch (err) {
      const mapped = budgetHttpError(err);
      if (mapped.getStatus() === HttpStatus.BAD_GATEWAY)
        this.logger.warn(
          `${command} failed: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`,
        );
      throw mapped;
    }
  }
}
