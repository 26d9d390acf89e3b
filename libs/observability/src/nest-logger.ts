import type { LoggerService } from '@nestjs/common';
import { JsonLogger } from './logger';

/** Routes Nest's own log lines (and every `new Logger(ctx)` in the apps) into the JSON log. */
export class NestJsonLogger implements LoggerService {
  private readonly byContext = new Map<string, JsonLogger>();

  log(message: unknown, context?: string): void {
    this.logger(context).info(String(message));
  }
  error(message: unknown, trace?: string, context?: string): void {
    this.logger(context).error(String(message), trace ? { trace: trace.split('\n')[0] } : {});
  }
  warn(message: unknown, context?: string): void {
    this.logger(context).warn(String(message));
  }
  debug(message: unknown, context?: string): void {
    this.logger(context).debug(String(message));
  }
  verbose(message: unknown, context?: string): void {
    this.logger(context).debug(String(message));
  }

  private logger(context = 'nest'): JsonLogger {
    let logger = this.byContext.get(context);
    if (!logger) {
      logger = new JsonLogger(context);
      this.byContext.set(context, logger);
    }
    return logger;
  }
}
