// Errors a request() caller can tell apart.

/** No reply within the request's timeout. */
export class RequestTimeoutError extends Error {
  constructor(command: string, timeoutMs: number) {
    super(`request ${command} timed out after ${timeoutMs} ms`);
    this.name = 'RequestTimeoutError';
  }
}

/** The command handler threw; `remoteName` is the error's name on the serving side. */
export class RemoteCommandError extends Error {
  constructor(
    message: string,
    readonly remoteName: string,
  ) {
    super(message);
    this.name = 'RemoteCommandError';
  }
}

/** Nobody serves the command (no handler registered / no queue bound). */
export class NoCommandHandlerError extends Error {
  constructor(command: string) {
    super(`no handler for command ${command}`);
    this.name = 'NoCommandHandlerError';
  }
}

/** The bus is closed or (RabbitMQ) not connected; publish fails fast so the OutboundQueue can spool. */
export class BusUnavailableError extends Error {
  constructor(detail: string) {
    super(`message bus unavailable: ${detail}`);
    this.name = 'BusUnavailableError';
  }
}
