// Commands to the auth and pricing services over the bus, with their failures as HTTP errors: not found → 404,
// a rejected request → 400 (the service's message names the field), anything else → 502 "<service> unavailable".
import { HttpStatus, Inject, Injectable, Logger } from '@nestjs/common';
import { KeyErrors } from '@spendops/contracts';
import { MESSAGE_BUS, RemoteCommandError, type MessageBus } from '@spendops/messaging';
import { ApiError } from './api-error';

export type Service = 'auth' | 'pricing';

/** The pricing service rejects with PricingCommandError; its not-found messages start "no ". */
const PRICING_ERROR = 'PricingCommandError';

export function httpErrorOf(service: Service, err: unknown): ApiError {
  if (err instanceof RemoteCommandError) {
    if (err.remoteName === KeyErrors.notFound) return new ApiError(HttpStatus.NOT_FOUND, 'key not found');
    if (err.remoteName === KeyErrors.invalid) return new ApiError(HttpStatus.BAD_REQUEST, err.message);
    if (err.remoteName === PRICING_ERROR)
      return /^no /.test(err.message)
        ? new ApiError(HttpStatus.NOT_FOUND, err.message)
        : new ApiError(HttpStatus.BAD_REQUEST, err.message);
  }
  return new ApiError(HttpStatus.BAD_GATEWAY, `${service} unavailable`);
}

@Injectable()
export class CommandClient {
  private readonly logger = new Logger('AdminApi');

  constructor(@Inject(MESSAGE_BUS) private readonly bus: MessageBus) {}

  async call<Res>(service: Service, command: string, request: object): Promise<Res> {
    try {
      return await this.bus.request<object, Res>(command, request);
    } catch (err) {
      const mapped = httpErrorOf(service, err);
      if (mapped.getStatus() === HttpStatus.BAD_GATEWAY)
        this.logger.warn(
          `${command} failed: ${err instanceof Error ? err.name + ': ' + err.message : String(err)}`,
        );
      return Promise.reject(mapped);
    }
  }
}
