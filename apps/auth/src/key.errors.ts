import { KeyErrors } from '@spendops/contracts';

export class KeyNotFoundError extends Error {
  constructor(id: string) {
    super(`key not found: ${id}`);
    this.name = KeyErrors.notFound;
  }
}

/** Bad input: the message names the field. */
export class KeyValidationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = KeyErrors.invalid;
  }
}
