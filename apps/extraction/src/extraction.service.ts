// Turns one capture record into the extracted-usage message. Pure apart from metrics.
import { Injectable } from '@nestjs/common';
import type { RequestMeta, UsageCapturedV1, UsageExtractedV1 } from '@spendops/contracts';
import { PoisonMessageError } from '@spendops/messaging';
import { captureProblem, extractCapture } from '@spendops/usage';
import { ExtractionMetrics } from './extraction.metrics';

@Injectable()
export class ExtractionService {
  constructor(private readonly metrics: ExtractionMetrics) {}

  /** Validates and extracts; a payload of the wrong shape can never succeed and is poison. */
  extractMessage(payload: unknown): UsageExtractedV1 {
    const problem = captureProblem(payload);
    if (problem) {
      this.metrics.failures.inc({ reason: 'bad_shape' });
      throw new PoisonMessageError(`usage.captured.v1: ${problem}`);
    }
    const capture = payload as UsageCapturedV1;
    const end = this.metrics.duration.startTimer();
    const { usage, outcome } = extractCapture(capture);
    end();
    this.metrics.processed.inc({ usage_source: usage.usage_source, dialect: capture.dialect });
    return { ...meta(capture), outcome, usage };
  }
}

/** The request facts every later message repeats (bodies and transport fields dropped: never content). */
function meta(c: UsageCapturedV1): RequestMeta {
  return {
    request_id: c.request_id,
    tenant_id: c.tenant_id,
    api_key_id: c.api_key_id,
    dims: c.dims,
    provider: c.provider,
    dialect: c.dialect,
    method: c.method,
    endpoint: c.endpoint,
    request_model: c.request_model,
    stream: c.stream,
    stream_usage_injected: c.stream_usage_injected,
    outcome: c.outcome,
    http_status: c.http_status,
    started_at_ms: c.started_at_ms,
    first_byte_at_ms: c.first_byte_at_ms,
    ended_at_ms: c.ended_at_ms,
  };
}
