import { isFilterError } from '@spendops/contracts';
import { ApiError } from './api-error';

/** A read-model error naming a query parameter becomes a 400 naming it; anything else propagates (500). */
export async function readModelCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (isFilterError(err)) throw new ApiError(400, err.message, err.param);
    throw err;
  }
}
