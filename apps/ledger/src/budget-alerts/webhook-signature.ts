// Webhook signing (interface.md "Budgets"): `X-SpendOps-Signature: sha256=<hex HMAC-SHA-256 of the raw body>`.
// For replay protection a receiver may instead check `X-SpendOps-Signature-V2`, the HMAC of
// `<X-SpendOps-Timestamp>.<raw body>` (unix seconds), and reject timestamps older than a few minutes.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { BUDGET_SIGNATURE_HEADER } from '@spendops/contracts';

export const BUDGET_SIGNATURE_V2_HEADER = 'X-SpendOps-Signature-V2';
export const BUDGET_TIMESTAMP_HEADER = 'X-SpendOps-Timestamp';
/** The crossing's event id: the same on every retry, so receivers can deduplicate. */
export const BUDGET_EVENT_ID_HEADER = 'X-SpendOps-Event-Id';

export function signBody(secret: string, rawBody: string): string {
  return `sha256=${createHmac('sha256', secret).update(rawBody).digest('hex')}`;
}

export function signTimestamped(secret: string, timestamp: string, rawBody: string): string {
  return signBody(secret, `${timestamp}.${rawBody}`);
}

/** The headers of one webhook attempt (the timestamp is the attempt's, so V2 changes per retry). */
export function webhookHeaders(
  secret: string,
  rawBody: string,
  eventId: string,
  now: Date = new Date(),
): Record<string, string> {
  const timestamp = String(Math.floor(now.getTime() / 1000));
  return {
    'content-type': 'application/json',
    'user-agent': 'SpendOps-Budget-Alerts/1',
    [BUDGET_SIGNATURE_HEADER.toLowerCase()]: signBody(secret, rawBody),
    [BUDGET_TIMESTAMP_HEADER.toLowerCase()]: timestamp,
    [BUDGET_SIGNATURE_V2_HEADER.toLowerCase()]: signTimestamped(secret, timestamp, rawBody),
    [BUDGET_EVENT_ID_HEADER.toLowerCase()]: eventId,
  };
}

/** What a receiver does: constant-time compare of `sha256=<hex>` against the HMAC of the raw body. */
export function verifySignature(
  secret: string,
  rawBody: string | Buffer,
  header: string | undefined,
): boolean {
  if (!header) return false;
  const expected = Buffer.from(signBody(secret, rawBody.toString()));
  const given = Buffer.from(header);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
