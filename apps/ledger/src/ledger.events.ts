// The ledger's event types (stored in the event store; stream = request id).
import { createHash } from 'node:crypto';
import type { CostFields, RequestDeniedV1, UsagePricedV1 } from '@spendops/contracts';

export const LedgerEventTypes = {
  usageRecorded: 'UsageRecorded',
  requestDenied: 'RequestDenied',
  usageRepriced: 'UsageRepriced',
  /** A trusted producer's `usage.ingest.v1` as received (the audit of what it sent); priced later by pricing. */
  usageIngested: 'UsageIngested',
} as const;

export type UsageRecordedData = UsagePricedV1;
export type RequestDeniedData = RequestDeniedV1;
/** The producer's message, unvalidated beyond a request id (pricing judges the rest). */
export type UsageIngestedData = Record<string, unknown> & { request_id: string };

export interface UsageRepricedData {
  request_id: string;
  /** The costs before this change (the history is the stream itself). */
  previous: CostFields;
  cost: CostFields;
  reason: string;
  actor: string;
}

/** A name-based (v5-style, SHA-1) UUID: the same request id always gives the same event id. */
export function deterministicEventId(...parts: string[]): string {
  const hash = createHash('sha1').update('spendops.ledger\u0000').update(parts.join('\u0000')).digest();
  const b = Buffer.from(hash.subarray(0, 16));
  b[6] = (b[6] & 0x0f) | 0x50;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = b.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
