// Bounded retries with exponential backoff, shared by both transports.
export interface RetryOptions {
  /** Deliveries before a failing message is dead-lettered (subscription default). */
  maxAttempts: number;
  /** Delay before the first retry; doubles per attempt. */
  retryBaseMs: number;
  /** Upper bound of one retry delay. */
  retryMaxMs: number;
}

export const DEFAULT_RETRY: RetryOptions = { maxAttempts: 5, retryBaseMs: 200, retryMaxMs: 30_000 };
export const DEFAULT_PREFETCH = 20;
export const DEFAULT_REQUEST_TIMEOUT_MS = 5_000;

/** Delay before delivery number `nextAttempt` (2 = first retry). */
export function retryDelayMs(nextAttempt: number, retry: RetryOptions): number {
  return Math.min(retry.retryMaxMs, retry.retryBaseMs * 2 ** Math.max(0, nextAttempt - 2));
}

/** The reason recorded with a dead-lettered message: the error's name and message, never the payload. */
export function failureReason(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`.slice(0, 1000);
  return String(err).slice(0, 1000);
}
