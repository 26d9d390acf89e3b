import { HttpException, HttpStatus } from '@nestjs/common';

/** An admin API error: the message (prefixed "AISpendOps: " when rendered) and, for a bad parameter, its name. */
export class ApiError extends HttpException {
  constructor(
    status: number,
    message: string,
    readonly param?: string,
  ) {
    super({ message, ...(param !== undefined ? { param } : {}) }, status);
  }
}

/** 400 naming the query parameter or body field at fault. */
export function badParam(param: string, message: string): ApiError {
  return new ApiError(HttpStatus.BAD_REQUEST, `invalid ${param}: ${message}`, param);
}
