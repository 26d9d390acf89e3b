// Extraction end to end on the real in-process bus: captures in, extracted usage out, poison dead-lettered.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import { Test, type TestingModule } from '@nestjs/testing';
import { Topics, type UsageCapturedV1, type UsageExtractedV1 } from '@spendops/contracts';
import { InProcessBus } from '@spendops/messaging';
import { captureMessages, globalBusModule, type CapturedMessages } from '@spendops/testing';
import { metricsRegistry } from '@spendops/observability';
import { EXTRACTION_QUEUE } from './extraction.consumer';
import { ExtractionModule } from './extraction.module';

const fixtures = join(__dirname, '../../../libs/usage/src/extract');
const b64 = (b: Buffer | string) => Buffer.from(b).toString('base64');

function capture(id: string, over: Partial<UsageCapturedV1> = {}): UsageCapturedV1 {
  const sse = readFileSync(join(fixtures, 'openai/fixtures/openai_chat_stream_usage.sse'));
  const gz = zlib.gzipSync(sse);
  const req = '{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}';
  return {
    request_id: id,
    tenant_id: 't1',
    api_key_id: 'k1',
    dims: { team: 'a' },
    provider: 'openai',
    dialect: 'openai-compatible',
    method: 'POST',
    endpoint: '/v1/chat/completions',
    request_model: 'gpt-4o-mini',
    stream: true,
    stream_usage_injected: true,
    outcome: 'completed',
    http_status: 200,
    started_at_ms: 10,
    first_byte_at_ms: 20,
    ended_at_ms: 30,
    content_encoding: 'gzip',
    response_content_type: 'text/event-stream',
    request_content_type: 'application/json',
    request_body: { head: b64(req), total_bytes: req.length, truncated: false },
    response_body: { head: b64(gz), total_bytes: gz.length, truncated: false },
    stream_complete: true,
    ...over,
  };
}

describe('ExtractionModule', () => {
  let app: TestingModule;
  let bus: InProcessBus;
  let captured: CapturedMessages<UsageExtractedV1>;

  beforeAll(async () => {
    bus = new InProcessBus({ maxAttempts: 3, retryBaseMs: 5, retryMaxMs: 20 });
    captured = await captureMessages<UsageExtractedV1>(bus, 'pricing-test', [Topics.usageExtracted]);
    app = await Test.createTestingModule({ imports: [globalBusModule(bus), ExtractionModule] }).compile();
    await app.init();
  });

  afterAll(async () => {
    await app.close();
    await bus.close();
  });

  it('extracts a captured stream and publishes usage.extracted.v1 keyed by the request id', async () => {
    await bus.publish(Topics.usageCaptured, capture('req_a'));
    await captured.waitFor(1);
    const env = captured.envelopes[0];
    expect(env.id).toBe('req_a');
    const m = env.payload;
    expect(m).toMatchObject({
      request_id: 'req_a',
      tenant_id: 't1',
      dims: { team: 'a' },
      endpoint: '/v1/chat/completions',
      outcome: 'completed',
      usage: { usage_source: 'provider', endpoint_class: 'chat', total_tokens: 29, model: 'gpt-4o-mini' },
    });
    // Never content: the bodies do not travel on.
    expect(JSON.stringify(m)).not.toContain('request_body');
    expect(JSON.stringify(m)).not.toContain('Hello');
  });

  it('a redelivered capture yields the same message id', async () => {
    await bus.publish(Topics.usageCaptured, capture('req_b'));
    await bus.publish(Topics.usageCaptured, capture('req_b'));
    await captured.waitFor(3);
    expect(captured.envelopes.slice(1, 3).map((e) => e.id)).toEqual(['req_b', 'req_b']);
    expect(captured.envelopes[1].payload).toEqual(captured.envelopes[2].payload);
  });

  it('dead-letters a capture of the wrong shape at once, without retries', async () => {
    await bus.publish(Topics.usageCaptured, { request_id: 'req_bad', provider: 'openai' });
    await new Promise((r) => setTimeout(r, 50));
    const dead = bus.deadLetters(EXTRACTION_QUEUE);
    expect(dead).toHaveLength(1);
    expect(dead[0].envelope.attempt).toBe(1);
    expect(dead[0].reason).toMatch(/usage\.captured\.v1: tenant_id missing/);
  });

  it('an unusable body still yields one event, estimated or none, with a note', async () => {
    await bus.publish(
      Topics.usageCaptured,
      capture('req_c', { response_body: { head: b64('garbage'), total_bytes: 7, truncated: false } }),
    );
    await captured.waitFor(4);
    const u = captured.envelopes[3].payload.usage;
    expect(u.usage_source).toBe('estimate');
    expect(u.extraction_note).toMatch(/decode corrupt/);
  });

  it('counts processed captures, failures and durations', async () => {
    const text = await metricsRegistry.metrics();
    expect(text).toMatch(
      /spendops_extraction_captures_total\{usage_source="provider",dialect="openai-compatible"\} 3/,
    );
    expect(text).toMatch(/spendops_extraction_failures_total\{reason="bad_shape"\} 1/);
    expect(text).toMatch(/spendops_extraction_duration_seconds_count 4/);
  });
});
