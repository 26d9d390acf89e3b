// class-validator for the admin API: unknown fields refused, values transformed, the first error names its field.
import { HttpStatus, ValidationPipe, type ValidationError } from '@nestjs/common';
import { plainToInstance, type ClassConstructor } from 'class-transformer';
import { validateSync } from 'class-validator';
import { ApiError } from './api-error';

function flatten(errors: ValidationError[], prefix = ''): { field: string; message: string }[] {
  return errors.flatMap((e) => {
    const field = prefix + e.property;
    const own = Object.values(e.constraints ?? {}).map((m) => ({ field, message: `${field}: ${m}` }));
    return [...own, ...flatten(e.children ?? [], field + '.')];
  });
}

export function validationError(errors: ValidationError[]): ApiError {
  const flat = flatten(errors);
  return new ApiError(
    HttpStatus.BAD_REQUEST,
    flat.map((f) => f.message).join('; ') || 'invalid request',
    flat[0]?.field,
  );
}

const OPTIONS = { whitelist: true, forbidNonWhitelisted: true } as const;

/** The pipe for bodies and typed parameters of every admin route. */
export function apiValidationPipe(): ValidationPipe {
  return new ValidationPipe({ ...OPTIONS, transform: true, exceptionFactory: validationError });
}

/** Validate a plain object (e.g. the query string minus its dim.* keys) as a DTO. */
export function validateAs<T extends object>(cls: ClassConstructor<T>, plain: object): T {
  const dto = plainToInstance(cls, plain);
  const errors = validateSync(dto, OPTIONS);
  if (errors.length > 0) throw validationError(errors);
  return dto;
}
