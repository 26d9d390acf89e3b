import { plainToInstance, type ClassConstructor } from 'class-transformer';
import { type ValidationError, validateSync } from 'class-validator';
import { KeyValidationError } from '../key.errors';

function describe(errors: ValidationError[], prefix = ''): string[] {
  return errors.flatMap((e) => {
    const field = prefix + e.property;
    const own = Object.values(e.constraints ?? {}).map((m) => `${field}: ${m}`);
    return [...own, ...describe(e.children ?? [], field + '.')];
  });
}

/** The request as a validated DTO; a KeyValidationError naming each bad field otherwise. */
export function validated<T extends object>(cls: ClassConstructor<T>, payload: unknown): T {
  const dto = plainToInstance(cls, payload ?? {});
  const errors = validateSync(dto, { whitelist: true, forbidNonWhitelisted: true });
  if (errors.length > 0) throw new KeyValidationError(describe(errors).join('; '));
  return dto;
}
