// The cost formula (docs/pricing.md §4): resolved rates × disjoint usage leaves, exact decimals.
import { Decimal, lineCost, ZERO } from '@spendops/money';
import type { CompiledImage, CompiledServiceTier, CompiledTier, DecimalRates } from '../catalog/compiled';
import type { ModelPrice } from '../catalog/catalog';
import { RATE_FIELDS } from '../catalog/schema';

/** Billable counts of one event, token fields in OpenAI's convention (subsets inside prompt and completion). */
export interface BillableUsage {
  prompt: number;
  completion: number;
  cacheRead: number;
  /** All cache writes (5m + 1h + unknown TTL). */
  cacheWrite: number;
  cacheWrite1h: number;
  reasoning: number;
  promptAudio: number;
  promptImage: number;
  completionAudio: number;
  completionImage: number;
  webSearches: number;
  requests: number;
  imageCount: number;
  imageSize: string;
  imageQuality: string;
  audioSeconds: Decimal;
  inputCharacters: number;
}

/** One priced leaf: quantity × rate / per, rounded by the rule. */
export interface CostLine {
  unit: string;
  quantity: Decimal;
  rate: Decimal;
  per: number;
  cost: Decimal;
}

export interface Breakdown {
  lines: CostLine[];
  total: Decimal;
  /** A billable quantity the price has no rate for (an image size missing from the table): cost unknown. */
  unpriced: string;
}

/** Provider spellings → catalog service-tier names; the standard tier is "". */
export function normalizeServiceTier(s: string): string {
  const t = s.trim().toLowerCase();
  if (
    t === '' ||
    t === 'default' ||
    t === 'standard' ||
    t === 'auto' ||
    t === 'on_demand' ||
    t === 'on-demand'
  )
    return '';
  return t === 'batches' ? 'batch' : t;
}

function overlay(base: DecimalRates, o: DecimalRates): DecimalRates {
  let out = base;
  for (const f of RATE_FIELDS) {
    const v = o[f];
    if (v !== undefined) {
      if (out === base) out = { ...base };
      out[f] = v;
    }
  }
  return out;
}

function crossed(tiers: CompiledTier[], totalInput: number, base: DecimalRates): DecimalRates {
  let r = base;
  for (const t of tiers) if (totalInput > t.above) r = overlay(r, t.rates);
  return r;
}

function scale(r: DecimalRates, f: Decimal): DecimalRates {
  const out: DecimalRates = {};
  for (const k of RATE_FIELDS) {
    const v = r[k];
    if (v !== undefined) out[k] = v.times(f);
  }
  return out;
}

/** The period's tier entry, inheriting the provider-wide multiplier when it has none of its own. */
function serviceTierOf(mp: ModelPrice, name: string): CompiledServiceTier | undefined {
  const n = normalizeServiceTier(name);
  if (n === '') return undefined;
  const own = mp.period.serviceTiers.get(n);
  const provider = mp.providerServiceTiers.get(n);
  if (own && provider && own.multiplier === undefined) return { ...own, multiplier: provider.multiplier };
  return own ?? provider;
}

/**
 * Effective rates: base, then the daily time window, then the highest long-context tier crossed, then the
 * service tier (multiplier first, its own rates and tiers last). A tier the catalog does not name is standard.
 */
export function ratesFor(mp: ModelPrice, serviceTier: string, totalInput: number, at: Date): DecimalRates {
  const p = mp.period;
  let r = p.rates;
  const secs = at.getUTCHours() * 3600 + at.getUTCMinutes() * 60 + at.getUTCSeconds();
  for (const w of p.windows) {
    const inside = w.end < w.start ? secs >= w.start || secs < w.end : w.start <= secs && secs < w.end;
    if (inside) r = overlay(r, w.rates);
  }
  r = crossed(p.tiers, totalInput, r);
  const st = serviceTierOf(mp, serviceTier);
  if (!st) return r;
  if (st.multiplier !== undefined) r = scale(r, st.multiplier);
  r = overlay(r, st.rates);
  return crossed(st.tiers, totalInput, r);
}

const MILLION = 1_000_000;

/**
 * Leaf decomposition: prompt splits into cache read, cache write 1h, cache write 5m/unknown, audio, image and
 * the uncached remainder; completion into reasoning, audio, image and the remainder. Each subset is capped by
 * what is left of its parent (no negative leaf whatever the counts) and takes its own rate, else its parent's,
 * so no token is billed twice.
 */
export function computeCost(r: DecimalRates, images: CompiledImage[], u: BillableUsage): Breakdown {
  const b: Breakdown = { lines: [], total: ZERO, unpriced: '' };
  const add = (unit: string, quantity: Decimal, rate: Decimal, per: number): void => {
    const cost = lineCost(quantity, rate, per);
    b.lines.push({ unit, quantity, rate, per, cost });
    b.total = b.total.plus(cost);
  };
  const tok = (unit: string, n: number, ...rates: (Decimal | undefined)[]): void => {
    if (n <= 0) return;
    const rate = rates.find((x) => x !== undefined);
    if (rate) add(unit, new Decimal(n), rate, MILLION);
  };
  let left = Math.max(u.prompt, 0);
  const take = (n: number): number => {
    const t = Math.min(Math.max(n, 0), left);
    left -= t;
    return t;
  };
  const cr = take(u.cacheRead);
  const cw1h = take(Math.min(u.cacheWrite1h, u.cacheWrite));
  const cw = take(u.cacheWrite - u.cacheWrite1h);
  const pa = take(u.promptAudio);
  const pi = take(u.promptImage);
  tok('cache_read', cr, r.cache_read, r.input);
  tok('cache_write_1h', cw1h, r.cache_write_1h, r.cache_write, r.input);
  tok('cache_write', cw, r.cache_write, r.input);
  tok('input_audio', pa, r.input_audio, r.input);
  tok('input_image', pi, r.input_image, r.input);
  tok('input', left, r.input);

  left = Math.max(u.completion, 0);
  const rs = take(u.reasoning);
  const ca = take(u.completionAudio);
  const ci = take(u.completionImage);
  tok('reasoning', rs, r.reasoning, r.output);
  tok('output_audio', ca, r.output_audio, r.output);
  tok('output_image', ci, r.output_image, r.output);
  tok('output', left, r.output);

  if (u.webSearches > 0 && r.web_search) add('web_search', new Decimal(u.webSearches), r.web_search, 1);
  if (u.requests > 0 && r.request) add('request', new Decimal(u.requests), r.request, 1);
  if (u.audioSeconds.greaterThan(0) && r.audio_second) add('audio_second', u.audioSeconds, r.audio_second, 1);
  if (u.inputCharacters > 0 && r.input_mchars) {
    add('input_characters', new Decimal(u.inputCharacters), r.input_mchars, MILLION);
  }
  // Per-image prices are for endpoints reporting no image tokens (DALL·E, Imagen); reported output image
  // tokens already priced the images above.
  if (u.imageCount > 0 && images.length > 0 && u.completionImage === 0) {
    const price = imagePrice(images, u.imageSize, u.imageQuality);
    if (price) add('image', new Decimal(u.imageCount), price, 1);
    else b.unpriced = `image ${u.imageSize} ${u.imageQuality}`;
  }
  return b;
}

function normSize(s: string): string {
  const t = s.trim().toLowerCase().replaceAll('-x-', 'x');
  return t === 'auto' ? '' : t;
}

function normQuality(q: string): string {
  const t = q.trim().toLowerCase();
  return t === '' || t === 'auto' ? 'standard' : t;
}

/** Exact size and quality; exact size, any quality; any size, exact quality; the entry with neither. */
export function imagePrice(images: CompiledImage[], size: string, quality: string): Decimal | undefined {
  const s = normSize(size);
  const q = normQuality(quality);
  for (const [wantSize, wantQuality] of [
    [true, true],
    [true, false],
    [false, true],
    [false, false],
  ]) {
    for (const ip of images) {
      const is = normSize(ip.size);
      const iq = ip.quality.trim().toLowerCase();
      if ((wantSize ? is === s : is === '') && (wantQuality ? iq === q : iq === '')) return ip.price;
    }
  }
  return undefined;
}
