// Usage of Anthropic Messages API responses, JSON bodies and SSE streams. A stream's report is
// message_start's usage with every field the message_deltas carried overwritten by the latest value (nothing
// summed). A stream cut or ended by an `error` event reports what was seen: found as soon as message_start's
// usage arrived, output from the latest message_delta if any, else message_start's provisional count beside
// the estimate over the text deltas that did arrive.
import type { EndpointClass } from '@spendops/contracts';
import { DEFAULT_MAX_EVENT_BYTES, SseScanner, type SseEvent } from '@spendops/sse';
import {
  type JsonValue,
  asArray,
  asString,
  isObject,
  looksLikeObject,
  parseExact,
  stringifyExact,
} from '../../json/exact-json';
import { wireNum } from '../../json/numbers';
import { type ExtractRequest, type UsageExtractor, type UsageReport, emptyReport } from '../report';
import { TextTally } from '../text-tally';
import { CappedBody, type WireMode, contentMode, sniff } from '../wire';
import { type ApiUsage, emptyUsage, mergeUsage, normaliseUsage, parseUsage } from './usage';

/** Message bodies are text (images are never output): 8 MiB is far above the largest real response. */
const MAX_JSON_BODY = 8 << 20;
const MAX_SMALL_BODY = 64 << 10; // count_tokens responses

type Endpoint = 'other' | 'messages' | 'count_tokens' | 'batch' | 'models' | 'complete';

export function classifyAnthropic(path: string): Endpoint {
  const p = path.endsWith('/') ? path.slice(0, -1) : path;
  if (p === '/v1/messages') return 'messages';
  if (p === '/v1/messages/count_tokens') return 'count_tokens';
  if (p === '/v1/messages/batches' || p.startsWith('/v1/messages/batches/')) return 'batch';
  if (p === '/v1/models' || p.startsWith('/v1/models/')) return 'models';
  if (p === '/v1/complete') return 'complete';
  return 'other';
}

const CLASS: Record<Endpoint, EndpointClass> = {
  other: 'other',
  messages: 'messages',
  count_tokens: 'count_tokens',
  batch: 'batch',
  models: 'models',
  complete: 'completions',
};

export class AnthropicExtractor implements UsageExtractor {
  private readonly ep: Endpoint;
  private readonly read: boolean;
  private mode: WireMode;
  private stopped = false;
  private readonly body: CappedBody;
  private sc?: SseScanner;
  private start: ApiUsage = emptyUsage();
  private startRaw: string | null = null;
  private hasStart = false;
  private delta: ApiUsage = emptyUsage();
  private deltaRaw: string | null = null;
  private hasDelta = false;
  private id = '';
  private model = '';
  private readonly text: TextTally;
  private reported?: UsageReport;

  constructor(req: ExtractRequest) {
    this.ep = classifyAnthropic(req.endpoint);
    this.read = req.method === 'GET' || req.method === 'HEAD';
    this.text = new TextTally(req.counter);
    if (this.ep === 'messages' || this.ep === 'complete') {
      this.body = new CappedBody(MAX_JSON_BODY);
      this.mode = contentMode(req.contentType);
    } else if (this.ep === 'count_tokens') {
      this.body = new CappedBody(MAX_SMALL_BODY);
      this.mode = 'json';
    } else {
      this.body = new CappedBody(0);
      this.mode = 'ignore';
    }
  }

  write(chunk: Buffer): void {
    let p = chunk;
    if (this.mode === 'unknown') {
      [this.mode, p] = sniff(p, '{');
      if (this.mode === 'unknown') return;
    }
    if (this.mode === 'json') this.body.write(p);
    else if (this.mode === 'sse') {
      this.sc ??= new SseScanner({ maxEventBytes: DEFAULT_MAX_EVENT_BYTES });
      for (const ev of this.sc.push(p)) this.onEvent(ev);
    }
  }

  report(): UsageReport {
    if (this.reported) return this.reported;
    const r = emptyReport(CLASS[this.ep]);
    if (this.ep === 'count_tokens' || this.ep === 'batch' || this.ep === 'models') r.notBilled = true;
    else if (this.ep === 'other') r.notBilled = this.read;
    if (this.mode === 'json') {
      if (!this.body.over) this.reportJSON(r);
    } else if (this.mode === 'sse') {
      if (this.sc) for (const ev of this.sc.end()) this.onEvent(ev);
      this.reportStream(r);
    }
    r.complete = this.stopped;
    r.outputChars = this.text.outputChars();
    r.outputTokensEstimate = this.text.estimate();
    this.reported = r;
    return r;
  }

  private reportJSON(r: UsageReport): void {
    const text = this.body.text();
    if (!looksLikeObject(text)) return;
    const m = parseExact(text);
    if (!isObject(m)) return;
    if (this.ep === 'count_tokens') {
      // A count is not usage: kept in raw, tokens stay zero and found false.
      if (wireNum(m.input_tokens).ok) r.raw = stringifyExact(m);
      return;
    }
    r.responseModel = asString(m.model);
    r.generationId = asString(m.id);
    if (this.ep === 'complete') {
      this.text.add(asString(m.completion));
      return;
    }
    for (const b of asArray(m.content)) {
      if (!isObject(b)) continue;
      switch (b.type) {
        case 'text':
          this.text.add(asString(b.text));
          break;
        case 'thinking':
          this.text.add(asString(b.thinking));
          break;
        case 'tool_use':
        case 'server_tool_use':
          this.text.add(compactJson(b.input));
          break;
      }
    }
    const u = parseUsage(m.usage);
    if (!u || m.usage === undefined) return;
    const n = normaliseUsage(u);
    r.found = true;
    r.tokens = n.tokens;
    r.webSearchRequests = n.webSearches;
    r.serviceTier = n.tier;
    r.raw = stringifyExact(m.usage);
  }

  private onEvent(ev: SseEvent): void {
    if (ev.oversized || !looksLikeObject(ev.data)) return;
    if (ev.event === 'message_stop') this.stopped = true;
    switch (ev.event) {
      case 'ping':
      case 'content_block_start':
      case 'content_block_stop':
      case 'message_stop':
        // Nothing to count; a search result's content_block_start can be large, so it is not decoded.
        return;
    }
    const se = parseExact(ev.data);
    if (!isObject(se)) return;
    const typ = asString(se.type) || ev.event;
    switch (typ) {
      case 'message_start': {
        const msg = se.message;
        if (!isObject(msg)) return;
        if (!this.id) this.id = asString(msg.id);
        if (!this.model) this.model = asString(msg.model);
        const u = parseUsage(msg.usage);
        if (u) {
          this.start = u;
          this.hasStart = true;
          this.startRaw = stringifyExact(msg.usage);
        }
        return;
      }
      case 'message_delta': {
        const u = parseUsage(se.usage);
        if (u) {
          this.delta = mergeUsage(this.delta, u);
          this.hasDelta = true;
          this.deltaRaw = stringifyExact(se.usage);
        }
        return;
      }
      case 'content_block_delta': {
        const d = se.delta;
        if (!isObject(d)) return;
        if (d.type === 'text_delta') this.text.add(asString(d.text));
        else if (d.type === 'thinking_delta') this.text.add(asString(d.thinking));
        else if (d.type === 'input_json_delta') this.text.add(asString(d.partial_json));
        return;
      }
      case 'completion':
        this.text.add(asString(se.completion));
        return;
    }
    // An "error" event (overloaded_error, api_error) ends the stream; the usage merged so far is reported.
  }

  private reportStream(r: UsageReport): void {
    r.responseModel = this.model;
    r.generationId = this.id;
    if (!this.hasStart && !this.hasDelta) return;
    const n = normaliseUsage(mergeUsage(this.start, this.delta));
    r.found = this.hasStart;
    r.tokens = n.tokens;
    r.webSearchRequests = n.webSearches;
    r.serviceTier = n.tier;
    const parts: string[] = [];
    if (this.startRaw !== null) parts.push(`"message_start":${this.startRaw}`);
    if (this.deltaRaw !== null) parts.push(`"message_delta":${this.deltaRaw}`);
    r.raw = `{${parts.join(',')}}`;
  }
}

/** Tool input as counted output text: compact JSON, '' for absent or null. */
export function compactJson(v: JsonValue | undefined): string {
  return v === undefined || v === null ? '' : stringifyExact(v);
}
