// Renders every error of the admin API as {"error":"AISpendOps: <message>"} (plus "param" for a bad parameter),
// like the launcher's global filter, but keeping the parameter name and the 401 challenge.
import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import { ERROR_PREFIX } from '@spendops/contracts';

interface ReplyLike {
  sent: boolean;
  raw: { headersSent: boolean; destroy(): void };
  status(code: number): ReplyLike;
  header(name: string, value: string): ReplyLike;
  send(body: string): void;
}

@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('AdminApi');

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<ReplyLike>();
    let status: number = HttpStatus.INTERNAL_SERVER_ERROR;
    let message = 'internal error';
    let param: string | undefined;
    if (exception instanceof HttpException) {
      status = exception.getStatus();
      const body = exception.getResponse();
      const raw = typeof body === 'string' ? body : (body as { message?: unknown }).message;
      message = Array.isArray(raw) ? raw.join('; ') : String(raw ?? exception.message);
      const p = typeof body === 'object' ? (body as { param?: unknown }).param : undefined;
      if (typeof p === 'string') param = p;
    } else {
      // Only the error's name and message: never a request or response body.
      this.logger.error(
        `unexpected error: ${exception instanceof Error ? exception.name + ': ' + exception.message : String(exception)}`,
      );
    }
    if (reply.sent || reply.raw.headersSent) {
      // A streamed export already started: cut it, so the client sees a truncated transfer, not a short file.
      reply.raw.destroy();
      return;
    }
    if (status === HttpStatus.UNAUTHORIZED) reply.header('WWW-Authenticate', 'Bearer realm="spendops-admin"');
    reply
      .status(status)
      .header('Content-Type', 'application/json')
      .header('Cache-Control', 'no-store')
      .send(JSON.stringify({ error: ERROR_PREFIX + message, ...(param !== undefined ? { param } : {}) }));
  }
}
