// The single entry point of extraction: a capture record in, usage in the event convention out. Pure, bounded
// memory, never throws: whatever goes wrong gives usage_source 'none' (or an estimate) with a note saying why,
// never content.
import type { ExtractedUsage, Outcome, UsageCapturedV1, UsageSource } from '@spendops/contracts';
import { bodyBytes, firstEventStart, lastObjectAfterKey } from './capture-body';
import { DEFAULT_MAX_DECODED_BYTES, decodeBody } from './decode/decode';
import { counterFor } from './estimate/encoding';
import { promptTokens } from './estimate/prompt';
import { extractorFor } from './extract/extractor-for';
import { type ExtractRequest, type TokenCounter, type UsageReport, emptyReport } from './extract/report';

export interface ExtractionResult {
  usage: ExtractedUsage;
  /** The outcome after extraction's correction: a client that left after the stream's end marker completed. */
  outcome: Outcome;
}

/** Extracts the usage of one captured exchange. */
export function extractUsage(capture: UsageCapturedV1): ExtractedUsage {
  return extractCapture(capture).usage;
}

export function extractCapture(capture: UsageCapturedV1): ExtractionResult {
  try {
    return extractOrThrow(capture);
  } catch (err) {
    const usage = toExtracted(capture, emptyReport('other'), 'none');
    usage.extraction_note = `extraction failed: ${err instanceof Error ? err.name : 'error'}`;
    return { usage, outcome: capture.outcome };
  }
}

function extractOrThrow(c: UsageCapturedV1): ExtractionResult {
  const notes: string[] = [];
  const reqBody = bodyBytes(c.request_body);
  // A truncated request body is not JSON any more; its head still feeds a chars-based prompt estimate.
  const requestBody = reqBody.tail ? null : reqBody.head;
  const res = bodyBytes(c.response_body);
  const encoding = c.content_encoding ?? '';
  const identity = encoding.trim() === '' || encoding.trim().toLowerCase() === 'identity';

  let head = res.head;
  let tail: Buffer | null = res.tail;
  if (!identity) {
    const d = decodeBody(head, encoding, DEFAULT_MAX_DECODED_BYTES);
    if (d.error && !(res.tail && d.error === 'corrupt'))
      notes.push(`decode ${d.error}: ${d.detail ?? ''}`.trim());
    head = d.data;
    // The tail of a compressed body cannot be decoded without its middle.
    if (tail) notes.push('response truncated inside a compressed body; tail not decodable');
    tail = null;
  } else if (tail) {
    notes.push('response truncated; usage read from head and tail');
  }

  const req: ExtractRequest = {
    provider: c.provider,
    method: c.method,
    endpoint: c.endpoint,
    model: c.request_model,
    stream: c.stream,
    requestBody,
    statusCode: c.http_status,
    contentType: c.response_content_type ?? '',
  };
  const sse = isSse(req.contentType, head, c.stream);
  const run = (counter?: TokenCounter): UsageReport => runExtractor(c, { ...req, counter }, head, tail, sse);
  let report = run();

  // A client that left after the stream's end marker got everything: completed, not cancelled.
  let outcome = c.outcome;
  if (outcome === 'cancelled' && (report.complete || c.stream_complete)) outcome = 'completed';

  if (report.found && outcome === 'completed')
    return { usage: toExtracted(c, report, 'provider', notes), outcome };

  // Estimates: output text counted with the model's tokenizer (a second pass, only when needed).
  const counter = counterFor(c.provider, c.request_model || report.responseModel);
  const estimateOutput = (): number => {
    if (counter.encoding !== 'chars/4' && report.outputChars > 0) {
      const t = run(counter).outputTokensEstimate;
      if (t > 0) return t;
    }
    return report.outputTokensEstimate > 0 ? report.outputTokensEstimate : Math.ceil(report.outputChars / 4);
  };

  if (report.found) {
    // Provider counts were seen (e.g. message_start) but the stream ended before its final usage: when the
    // visible output proves more was generated than the provisional count, use it.
    const out = estimateOutput();
    if (out > report.tokens.completion_tokens) {
      report = withTokens(report, report.tokens.prompt_tokens, out);
      notes.push('stream ended before final usage; output estimated from text seen');
      return { usage: toExtracted(c, report, 'partial', notes), outcome };
    }
    return { usage: toExtracted(c, report, 'provider', notes), outcome };
  }
  const noResponse = c.http_status === 0 && c.response_body.total_bytes === 0 && outcome === 'error';
  if (report.notBilled || noResponse) {
    if (noResponse) notes.push(c.upstream_error ? 'upstream unreachable' : 'no response');
    return { usage: toExtracted(c, report, 'none', notes), outcome };
  }
  if (c.http_status >= 400 && report.outputChars === 0) {
    // Provider errors are not billed and carry no usage.
    return { usage: toExtracted(c, report, 'none', notes), outcome };
  }
  const prompt = requestBody
    ? promptTokens(c.provider, c.request_model, requestBody.toString('utf8')).tokens
    : Math.ceil(reqBody.head.length / 4);
  const out = estimateOutput();
  const partial = report.tokens.prompt_tokens > 0 || report.tokens.completion_tokens > 0;
  const p = report.tokens.prompt_tokens === 0 ? prompt : report.tokens.prompt_tokens;
  const comp = Math.max(out, report.tokens.completion_tokens);
  report = withTokens(report, p, comp);
  notes.push(
    c.stream && !report.complete ? 'stream ended without usage; estimated' : 'no usage reported; estimated',
  );
  return { usage: toExtracted(c, report, partial ? 'partial' : 'estimate', notes), outcome };
}

function isSse(contentType: string, head: Buffer, stream: boolean): boolean {
  const mt = contentType.split(';')[0].trim().toLowerCase();
  if (mt === 'text/event-stream') return true;
  if (mt.includes('json')) return false;
  for (const b of head) {
    if (b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09) continue;
    return b !== 0x7b && b !== 0x5b;
  }
  return stream;
}

function runExtractor(
  c: UsageCapturedV1,
  req: ExtractRequest,
  head: Buffer,
  tail: Buffer | null,
  sse: boolean,
): UsageReport {
  const e = extractorFor(c.dialect, req);
  e.write(head);
  if (tail && sse) {
    // End the event cut by the cap, then resume at the tail's first whole event.
    e.write(Buffer.from('\n\n'));
    e.write(tail.subarray(firstEventStart(tail)));
  }
  const r = e.report();
  if (!tail || sse) return r;
  // A JSON body cut in the middle: its (last, cumulative) usage object sits near the end, in the tail.
  const t = tail.toString('utf8');
  const key = c.dialect === 'gemini' && !c.endpoint.includes('/openai/') ? 'usageMetadata' : 'usage';
  const obj = lastObjectAfterKey(t, key);
  if (!obj) return r;
  const x = extractorFor(c.dialect, { ...req, contentType: 'application/json' });
  x.write(Buffer.from(`{"${key}":${obj}}`));
  const u = x.report();
  if (!u.found) return r;
  return {
    ...r,
    found: true,
    tokens: u.tokens,
    raw: u.raw,
    providerCost: u.providerCost,
    audioSeconds: u.audioSeconds,
    serviceTier: r.serviceTier || u.serviceTier,
    webSearchRequests: Math.max(r.webSearchRequests, u.webSearchRequests),
  };
}

function withTokens(r: UsageReport, prompt: number, completion: number): UsageReport {
  return {
    ...r,
    tokens: {
      ...r.tokens,
      prompt_tokens: prompt,
      completion_tokens: completion,
      total_tokens: prompt + completion,
    },
  };
}

function toExtracted(
  c: UsageCapturedV1,
  r: UsageReport,
  source: UsageSource,
  notes: string[] = [],
): ExtractedUsage {
  let raw: unknown = null;
  if (r.raw !== null) {
    try {
      raw = JSON.parse(r.raw) as unknown;
    } catch {
      raw = null;
    }
  }
  const t = r.tokens;
  // Spelled out rather than `...r.tokens`: a spread followed by more fields built the object slowly (a
  // dictionary-like shape at every extraction); same keys, same order.
  return {
    prompt_tokens: t.prompt_tokens,
    completion_tokens: t.completion_tokens,
    total_tokens: t.total_tokens,
    cache_read_tokens: t.cache_read_tokens,
    cache_write_tokens: t.cache_write_tokens,
    cache_write_5m_tokens: t.cache_write_5m_tokens,
    cache_write_1h_tokens: t.cache_write_1h_tokens,
    reasoning_tokens: t.reasoning_tokens,
    prompt_audio_tokens: t.prompt_audio_tokens,
    prompt_image_tokens: t.prompt_image_tokens,
    completion_audio_tokens: t.completion_audio_tokens,
    completion_image_tokens: t.completion_image_tokens,
    usage_source: source,
    endpoint_class: r.endpointClass,
    not_billed: r.notBilled,
    model: c.request_model || r.responseModel,
    response_model: r.responseModel,
    generation_id: r.generationId,
    service_tier: r.serviceTier,
    web_search_requests: r.webSearchRequests,
    image_count: r.imageCount,
    image_size: r.imageSize,
    image_quality: r.imageQuality,
    audio_seconds: r.audioSeconds,
    input_characters: r.inputCharacters,
    provider_cost: r.providerCost,
    raw_usage: raw,
    extraction_note: notes.join('; '),
  };
}
