// What an extractor found in one response: the reference's Report, field for field.
import type { EndpointClass, TokenCounts } from '@spendops/contracts';
import { zeroTokens } from '@spendops/contracts';

export interface UsageReport {
  /** The provider reported usage (all of `tokens` is the provider's). When false, tokens may be partial. */
  found: boolean;
  tokens: TokenCounts;
  endpointClass: EndpointClass;
  /** Token-counting and read-only endpoints. */
  notBilled: boolean;
  /** The stream's end marker was seen ([DONE], message_stop, a final Responses event, a finishReason). */
  complete: boolean;
  webSearchRequests: number;
  imageCount: number;
  imageSize: string;
  imageQuality: string;
  /** Exact decimal text ("0" when not billed by time). */
  audioSeconds: string;
  inputCharacters: number;
  /** Exact decimal USD text, or null. */
  providerCost: string | null;
  responseModel: string;
  generationId: string;
  serviceTier: string;
  /** The provider's usage object as received (JSON text), null when none. */
  raw: string | null;
  /** Visible output characters seen, and the Counter's estimate over them (for usage-less streams). */
  outputChars: number;
  outputTokensEstimate: number;
}

export function emptyReport(endpointClass: EndpointClass): UsageReport {
  return {
    found: false,
    tokens: zeroTokens(),
    endpointClass,
    notBilled: false,
    complete: false,
    webSearchRequests: 0,
    imageCount: 0,
    imageSize: '',
    imageQuality: '',
    audioSeconds: '0',
    inputCharacters: 0,
    providerCost: null,
    responseModel: '',
    generationId: '',
    serviceTier: '',
    raw: null,
    outputChars: 0,
    outputTokensEstimate: 0,
  };
}

/** Counts tokens in text for estimates. */
export interface TokenCounter {
  count(text: string): number;
}

/** Describes a request and its response head to an extractor. */
export interface ExtractRequest {
  provider: string;
  method: string;
  /** Path relative to the provider route, without query. */
  endpoint: string;
  model: string;
  stream: boolean;
  /** The request body when captured (JSON requests); extractors read billing fields from it. */
  requestBody: Buffer | null;
  statusCode: number;
  contentType: string;
  /** Token counter for output estimates; absent means chars/4. */
  counter?: TokenCounter;
}

/** Consumes the decoded response body in pieces (any split) and reports once. Bounded memory; never throws. */
export interface UsageExtractor {
  write(chunk: Buffer): void;
  report(): UsageReport;
}
