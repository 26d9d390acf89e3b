import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus } from '@nestjs/common';

interface ReplyLike {
  status(code: number): ReplyLike;
  header(name: string, value: string): ReplyLike;
  send(body: string): void;
}

/**
 * Errors outside the proxy are JSON in the product's shape. Validation errors keep their field-naming message;
 * unexpected errors say nothing about internals.
 */
@Catch()
export class JsonErrorFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<ReplyLike>();
    let status: number = HttpStatus.INTERNAL_SERVER_ERROR;
    let message = 'Internal error';
    if (exception instanceof HttpException) {
      status = exception.getStatus();
      const body = exception.getResponse();
      const raw = typeof body === 'string' ? body : (body as { message?: unknown }).message;
      message = Array.isArray(raw) ? raw.join('; ') : String(raw ?? exception.message);
      if (
        status === HttpStatus.NOT_FOUND &&
        /^Cannot (GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS)/.test(message)
      ) {
        message = 'Not found';
      }
    }
    reply
      .status(status)
      .header('Content-Type', 'application/json')
      .send(JSON.stringify({ error: `AISpendOps: ${message}` }));
  }
}
