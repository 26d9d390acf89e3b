// Usage of responses in the OpenAI dialect: OpenAI itself and every OpenAI-compatible host. Streams keep the
// last non-null usage wherever it rides (a choices:[] chunk, the finish_reason chunk, xAI's second-to-last,
// Groq's x_groq.usage); Responses streams take the usage of response.completed/incomplete/failed; JSON bodies
// are squeezed to a bounded copy first. See normalize.ts for each host's quirks.
import type { EndpointClass } from '@spendops/contracts';
import { SseScanner, type SseEvent } from '@spendops/sse';
import {
  type JsonObject,
  type JsonValue,
  asArray,
  asString,
  isObject,
  parseExact,
  stringifyExact,
} from '../../json/exact-json';
import { decimalOf, decimalText } from '../../json/numbers';
import { type ExtractRequest, type UsageExtractor, type UsageReport, emptyReport } from '../report';
import { runeCount } from '../text-tally';
import { classifyOpenAI } from './classify';
import { type Quirks, normalize } from './normalize';
import { Squeezer } from './squeezer';

/** Cap on the squeezed copy of a non-streamed body; beyond it usage is reported not found. */
export const MAX_JSON_BODY = 8 << 20;
const MAX_KEPT_STRING = 4 << 10;

type Mode = 'ignore' | 'json' | 'sse';

function quirksFor(provider: string, path: string, cls: EndpointClass): Quirks {
  return {
    reasoningOutside: provider === 'xai',
    topReasoning: provider === 'perplexity',
    thinkingInTotal:
      provider === 'google' || provider === 'google-ai-studio' || path.includes('/v1beta/openai/'),
    imageOutput: cls === 'images',
    audioOutput: cls === 'audio_speech',
  };
}

/** The response Content-Type wins (a stream can be answered with a JSON error); without one, the request. */
function bodyMode(req: ExtractRequest, cls: EndpointClass): Mode {
  const mt = req.contentType.split(';')[0].trim().toLowerCase();
  if (mt === 'text/event-stream') return 'sse';
  if (mt.includes('json')) return 'json';
  if (mt === '') {
    if (req.stream) return 'sse';
    return cls === 'audio_speech' ? 'ignore' : 'json';
  }
  // audio/*, text/plain (whisper text/srt/vtt): no usage.
  return 'ignore';
}

export class OpenAIExtractor implements UsageExtractor {
  private readonly cls: EndpointClass;
  private readonly notBilled: boolean;
  private readonly q: Quirks;
  private readonly sc?: SseScanner;
  private readonly sq?: Squeezer;

  private usage: JsonObject | null = null;
  private id = '';
  private model = '';
  private serviceTier = '';
  private webSearch = 0;
  private finalWebSearch = 0;
  private finalSeen = false;
  private sawDone = false;
  private images = 0;
  private duration: string | null = null;
  private imageSize = '';
  private imageQuality = '';
  private chars = 0;
  private estimate = 0;
  private done = false;

  constructor(private readonly req: ExtractRequest) {
    const c = classifyOpenAI(req.method, req.endpoint);
    this.cls = c.endpointClass;
    this.notBilled = c.notBilled;
    this.q = quirksFor(req.provider, req.endpoint, this.cls);
    const mode = bodyMode(req, this.cls);
    if (mode === 'sse') this.sc = new SseScanner({});
    else if (mode === 'json')
      // Texts are decoded for the Counter only when there is one (the estimate pass): the first pass needs
      // their lengths alone.
      this.sq = new Squeezer(
        MAX_JSON_BODY,
        MAX_KEPT_STRING,
        req.counter ? (s) => this.countTokens(s) : undefined,
      );
  }

  write(chunk: Buffer): void {
    if (this.sc) for (const ev of this.sc.push(chunk)) this.event(ev);
    else this.sq?.write(chunk);
  }

  private countText(s: string): void {
    if (!s) return;
    this.chars += runeCount(s);
    this.countTokens(s);
  }

  /** Without a Counter the estimate is chars/4 over the total (rounding per delta would inflate it). */
  private countTokens(s: string): void {
    if (this.req.counter) this.estimate += this.req.counter.count(s);
  }

  private setUsage(v: JsonValue | undefined): void {
    if (!isObject(v)) return; // absent or null: keep the last non-null one
    this.usage = v;
  }

  private meta(id: string, model: string, tier: string): void {
    if (!this.id) this.id = id;
    if (!this.model) this.model = model;
    if (tier) this.serviceTier = tier; // the final chunk's tier is the one billed
  }

  private event(ev: SseEvent): void {
    if (ev.oversized) return; // over the cap: not parseable, and never the usage chunk
    const data = ev.data.trim();
    if (data === '' || data[0] !== '{') {
      if (data === '[DONE]') this.sawDone = true;
      return;
    }
    const se = parseExact(data);
    if (!isObject(se)) return;
    const typ = asString(se.type) || ev.event;
    const response = se.response;
    if (isObject(response) && typ.startsWith('response.')) {
      this.meta(asString(response.id), asString(response.model), asString(response.service_tier));
      this.setUsage(response.usage);
      if (typ === 'response.completed' || typ === 'response.incomplete' || typ === 'response.failed') {
        this.finalSeen = true;
        this.finalWebSearch = countWebSearch(response.output);
      }
      return;
    }
    switch (typ) {
      case 'response.output_item.done': {
        const item = se.item;
        if (isObject(item) && item.type === 'web_search_call') this.webSearch++;
        return;
      }
      case 'response.output_text.delta':
      case 'response.refusal.delta':
      case 'response.function_call_arguments.delta':
      case 'response.reasoning_text.delta':
      case 'response.reasoning_summary_text.delta':
      case 'transcript.text.delta':
        this.countText(asString(se.delta));
        return;
      case 'transcript.text.done':
      case 'speech.audio.done':
        this.setUsage(se.usage);
        return;
      case 'image_generation.completed':
      case 'image_edit.completed':
        this.images++;
        this.imageSize = asString(se.size);
        this.imageQuality = asString(se.quality);
        this.setUsage(se.usage);
        return;
    }
    if (
      typ.startsWith('response.') ||
      typ.startsWith('image_') ||
      typ.startsWith('speech.') ||
      typ.startsWith('transcript.') ||
      typ === 'error'
    ) {
      return;
    }
    // Chat or legacy completions chunk: keep the last non-null usage, wherever it is.
    this.meta(asString(se.id), asString(se.model), asString(se.service_tier));
    for (const c of asArray(se.choices)) if (isObject(c)) this.countChoice(c);
    if (isObject(se.usage)) this.setUsage(se.usage);
    else if (isObject(se.x_groq)) this.setUsage(se.x_groq.usage); // Groq: usage ?? x_groq.usage
  }

  private countChoice(c: JsonObject): void {
    const m = isObject(c.delta) ? c.delta : isObject(c.message) ? c.message : null;
    this.countText(asString(c.text));
    if (!m) return;
    this.countText(contentText(m.content));
    this.countText(asString(m.refusal));
    this.countText(asString(m.reasoning_content));
    this.countText(asString(m.reasoning));
    for (const tc of asArray(m.tool_calls)) {
      if (isObject(tc) && isObject(tc.function)) this.countText(asString(tc.function.arguments));
    }
  }

  private parseJSON(): void {
    const sq = this.sq;
    if (!sq) return;
    // Output text was counted by the squeezer as it streamed by.
    this.chars += sq.chars;
    if (this.req.counter) this.estimate += Math.ceil(sq.cutChars / 4); // too long to keep for the Counter
    const out = sq.bytes();
    if (sq.over || out.length === 0) return;
    const b = parseExact(out.toString('utf8'));
    if (!isObject(b)) return;
    this.meta(asString(b.id), asString(b.model), asString(b.service_tier));
    this.setUsage(b.usage);
    if (!this.usage && isObject(b.x_groq)) this.setUsage(b.x_groq.usage);
    this.finalSeen = true;
    this.finalWebSearch = countWebSearch(b.output);
    const d = decimalOf(b.duration);
    if (d && !this.usage) this.duration = decimalText(d);
    if (this.cls === 'images') {
      this.images = asArray(b.data).length;
      this.imageSize = asString(b.size);
      this.imageQuality = asString(b.quality);
    }
  }

  report(): UsageReport {
    if (!this.done) {
      this.done = true;
      if (this.sc) for (const ev of this.sc.end()) this.event(ev);
      this.parseJSON();
    }
    if (!this.req.counter) this.estimate = Math.ceil(this.chars / 4);
    const r = emptyReport(this.cls);
    r.complete = this.sawDone || this.finalSeen;
    r.notBilled = this.notBilled;
    r.responseModel = this.model;
    r.generationId = this.id;
    r.serviceTier = this.serviceTier;
    r.outputChars = this.chars;
    r.outputTokensEstimate = this.estimate;
    if (this.usage) {
      const n = normalize(this.usage, this.q);
      r.found = n.ok;
      r.tokens = n.tokens;
      r.providerCost = n.cost;
      r.audioSeconds = n.audioSeconds;
      r.webSearchRequests = n.webSearches;
      r.raw = stringifyExact(this.usage);
    }
    if (this.duration !== null && (this.cls === 'audio_transcription' || this.cls === 'audio_translation')) {
      // Not found (no token usage), but the billed duration of a whisper verbose_json answer is exact.
      r.audioSeconds = this.duration;
    }
    // The final Response lists every output item; without it (a cut stream) count the items seen done.
    r.webSearchRequests += this.finalSeen ? this.finalWebSearch : this.webSearch;
    if (this.cls === 'images') {
      r.imageCount = this.images;
      r.imageSize = this.imageSize;
      r.imageQuality = this.imageQuality;
      if (!r.imageSize || !r.imageQuality) {
        const body = requestJson(this.req.requestBody);
        if (!r.imageSize) r.imageSize = asString(body?.size);
        if (!r.imageQuality) r.imageQuality = asString(body?.quality);
      }
    }
    if (this.cls === 'audio_speech') {
      r.inputCharacters = runeCount(asString(requestJson(this.req.requestBody)?.input));
    }
    return r;
  }
}

function requestJson(body: Buffer | null): JsonObject | undefined {
  if (!body || body.length === 0) return undefined;
  const v = parseExact(body.toString('utf8'));
  return isObject(v) ? v : undefined;
}

function countWebSearch(output: JsonValue | undefined): number {
  let n = 0;
  for (const it of asArray(output)) if (isObject(it) && it.type === 'web_search_call') n++;
  return n;
}

/** A message content: a string, or (Mistral, multimodal output) an array of parts with text. */
function contentText(v: JsonValue | undefined): string {
  if (typeof v === 'string') return v;
  if (!Array.isArray(v)) return '';
  let s = '';
  for (const p of v) if (isObject(p)) s += asString(p.text);
  return s;
}
