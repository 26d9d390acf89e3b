import { Envelope } from './bus';

/** A message that failed for good: the envelope as last delivered and why (the handler's error, no payload). */
export interface DeadLetter {
  queue: string;
  envelope: Envelope;
  reason: string;
  deadLetteredAt: string;
}
