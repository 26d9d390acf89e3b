// The seam between the proxy and the checks that run after policy allowed a request and before it is
// forwarded: budget enforcement and rate limits. Guards are in-memory replicas (no database or bus round trip on
// the request path); each may reserve something and must be told how the request ended.
import type { KeyRecord } from './keys';

export interface AdmissionInput {
  request_id: string;
  key: KeyRecord;
  provider: string;
  model: string;
  endpoint: string;
  dims: Record<string, string>;
  stream: boolean;
  /** The buffered JSON request body, when the proxy read it (for prompt-size and `max_tokens` estimates). */
  body: Buffer | null;
}

export type AdmissionResult =
  | { ok: true; headers?: Record<string, string> }
  | {
      ok: false;
      status: 429;
      type: 'budget_exceeded' | 'rate_limited';
      message: string;
      headers?: Record<string, string>;
    };

export interface AdmissionGuard {
  /** Synchronous and cheap: runs on every proxied request. */
  admit(input: AdmissionInput): AdmissionResult;
  /** The request is over (answered, failed, or denied by a later guard). A budget guard may keep its reservation
   * until the ledger reports the real cost; a rate limiter settles its count. */
  release?(requestId: string): void;
}

/** Nest multi-provider token: every registered guard runs in order; the first denial wins. */
export const ADMISSION_GUARDS = Symbol('ADMISSION_GUARDS');
