// Usage of Gemini-native responses: generateContent (JSON), streamGenerateContent (SSE with alt=sse, or a JSON
// array), embedContent, batchEmbedContents, countTokens (not billed), cachedContents, models and batches (not
// billed). The last usageMetadata seen is the usage (it is cumulative); grounding web-search queries are
// counted once per candidate.
import type { EndpointClass } from '@spendops/contracts';
import { SseScanner, type SseEvent } from '@spendops/sse';
import {
  asArray,
  asString,
  isObject,
  looksLikeObject,
  parseExact,
  type JsonObject,
} from '../../json/exact-json';
import { wireNum } from '../../json/numbers';
import { compactJson } from '../anthropic/anthropic-extractor';
import { type ExtractRequest, type UsageExtractor, type UsageReport, emptyReport } from '../report';
import { TextTally } from '../text-tally';
import { CappedBody, type WireMode, contentMode, sniff } from '../wire';
import { MemberScanner } from './member-scanner';
import { geminiModelFromPath } from './path';
import { normaliseGemini } from './usage';

const MAX_MEMBER = 4 << 20;
const MAX_SMALL_BODY = 64 << 10;
/** Distinct search queries remembered, at most. */
const MAX_SEARCHES = 4096;

type Endpoint = 'other' | 'generate' | 'embed' | 'count' | 'batch' | 'models' | 'cache';

export function classifyGemini(method: string, path: string): Endpoint {
  const m = geminiModelFromPath(path);
  if (m) {
    switch (m.action) {
      case 'generateContent':
      case 'streamGenerateContent':
        return 'generate';
      case 'embedContent':
      case 'batchEmbedContents':
        return 'embed';
      case 'countTokens':
        return 'count';
      case 'batchGenerateContent':
      case 'asyncBatchEmbedContent':
        return 'batch';
    }
    return 'other';
  }
  let rest = path.endsWith('/') ? path.slice(0, -1) : path;
  for (const v of ['/v1beta/', '/v1alpha/', '/v1/']) {
    if (rest.startsWith(v)) {
      rest = rest.slice(v.length);
      break;
    }
  }
  const read = method === 'GET' || method === 'HEAD';
  const under = (c: string): boolean => rest === c || rest.startsWith(c + '/');
  if (under('batches')) return 'batch';
  if (read && (under('models') || under('tunedModels'))) return 'models';
  if (under('cachedContents')) return 'cache';
  return 'other';
}

const CLASS: Record<Endpoint, EndpointClass> = {
  other: 'other',
  generate: 'generate_content',
  embed: 'embed_content',
  count: 'count_tokens',
  batch: 'batch',
  models: 'models',
  cache: 'other',
};

const WANTED = new Set(['usageMetadata', 'modelVersion', 'responseId', 'candidates']);

export class GeminiExtractor implements UsageExtractor {
  private readonly ep: Endpoint;
  private readonly notBilled: boolean;
  private mode: WireMode;
  private finished = false;
  private readonly js: MemberScanner;
  private sc?: SseScanner;
  private readonly small = new CappedBody(MAX_SMALL_BODY);
  private meta: JsonObject | null = null;
  private metaRaw = '';
  private model = '';
  private id = '';
  private readonly text: TextTally;
  private readonly searches = new Map<number, Set<string>>();
  private nSearches = 0;
  private reported?: UsageReport;

  constructor(req: ExtractRequest) {
    this.ep = classifyGemini(req.method, req.endpoint);
    this.text = new TextTally(req.counter);
    const read = req.method === 'GET' || req.method === 'HEAD';
    this.notBilled =
      this.ep === 'count' ||
      this.ep === 'batch' ||
      this.ep === 'models' ||
      (this.ep === 'other' && read) ||
      (this.ep === 'cache' && (read || req.method === 'DELETE'));
    this.js = new MemberScanner(
      MAX_MEMBER,
      (k) => WANTED.has(k),
      (k, v) => this.onMember(k, v),
    );
    this.mode =
      this.ep === 'generate' || this.ep === 'embed' || this.ep === 'cache' || this.ep === 'count'
        ? contentMode(req.contentType)
        : 'ignore';
  }

  write(chunk: Buffer): void {
    let p = chunk;
    if (this.mode === 'unknown') {
      [this.mode, p] = sniff(p, '{[');
      if (this.mode === 'unknown') return;
    }
    if (this.mode === 'json') {
      if (this.ep === 'count') this.small.write(p);
      this.js.write(p);
    } else if (this.mode === 'sse') {
      this.sc ??= new SseScanner({ maxEventBytes: MAX_MEMBER });
      for (const ev of this.sc.push(p)) this.onEvent(ev);
    }
  }

  private onEvent(ev: SseEvent): void {
    if (ev.oversized) return;
    this.js.reset();
    this.js.write(Buffer.from(ev.data, 'utf8'));
    this.js.reset();
  }

  private onMember(key: string, value: Buffer): void {
    const text = value.toString('utf8');
    switch (key) {
      case 'usageMetadata': {
        if (!looksLikeObject(text)) return;
        const m = parseExact(text);
        if (isObject(m)) {
          this.meta = m;
          this.metaRaw = text; // as received
        }
        return;
      }
      case 'modelVersion':
        if (!this.model) this.model = asString(parseExact(text));
        return;
      case 'responseId':
        if (!this.id) this.id = asString(parseExact(text));
        return;
      case 'candidates': {
        const cs = parseExact(text);
        if (!Array.isArray(cs)) return;
        for (const c of cs) {
          if (!isObject(c)) continue;
          if (asString(c.finishReason)) this.finished = true; // the provider's last chunk
          if (isObject(c.content)) {
            for (const p of asArray(c.content.parts)) {
              if (!isObject(p)) continue;
              this.text.add(asString(p.text));
              this.text.add(compactJson(p.functionCall));
              if (isObject(p.executableCode)) this.text.add(asString(p.executableCode.code));
            }
          }
          if (isObject(c.groundingMetadata)) {
            const queries = asArray(c.groundingMetadata.webSearchQueries).filter(
              (q) => typeof q === 'string',
            );
            this.addSearches(wireNum(c.index).v, queries);
          }
        }
      }
    }
  }

  private addSearches(idx: number, queries: string[]): void {
    for (const q of queries) {
      if (this.nSearches >= MAX_SEARCHES) return;
      let set = this.searches.get(idx);
      if (!set) this.searches.set(idx, (set = new Set()));
      if (!set.has(q)) {
        set.add(q);
        this.nSearches++;
      }
    }
  }

  report(): UsageReport {
    if (this.reported) return this.reported;
    const r = emptyReport(CLASS[this.ep]);
    r.notBilled = this.notBilled;
    if (this.sc) for (const ev of this.sc.end()) this.onEvent(ev);
    r.complete = this.finished;
    if (this.ep === 'count') {
      const body = this.small.text();
      if (looksLikeObject(body)) {
        if (isObject(parseExact(body))) r.raw = body.trim();
      }
    } else if (this.ep === 'cache' || this.notBilled) {
      if (this.meta) r.raw = this.metaRaw;
    } else if (this.meta) {
      const n = normaliseGemini(this.meta);
      r.found = true;
      r.tokens = n.tokens;
      r.serviceTier = n.tier;
      r.raw = this.metaRaw;
    }
    if (!r.notBilled) {
      r.responseModel = this.model;
      r.generationId = this.id;
      r.webSearchRequests = this.nSearches;
    }
    r.outputChars = this.text.outputChars();
    r.outputTokensEstimate = this.text.estimate();
    this.reported = r;
    return r;
  }
}
