// genai-prices v2 data.json → catalog provider files (facts only; docs/pricing.md §10). Price keys SpendOps has
// no bucket for (video, per-modality cache reads, …) are left out and named in the model's provenance.
import { parseJsonExact, type ExactJson } from '@spendops/money';
import { asArray, asDecimal, asObject, asString, byteOrder, shifted, type JsonObject } from './json-read';
import { kindOf } from './kind';
import type { CatalogModel, Period, ProviderFile, RateField, Rates, Tier } from './schema';

/** genai-prices provider ids → SpendOps provider names. */
export const GENAI_PROVIDERS: Readonly<Record<string, string>> = {
  openai: 'openai',
  anthropic: 'anthropic',
  google: 'google',
  openrouter: 'openrouter',
  'x-ai': 'xai',
  groq: 'groq',
  novita: 'novita',
  fireworks: 'fireworks',
  perplexity: 'perplexity',
  cerebras: 'cerebras',
  mistral: 'mistral',
  deepseek: 'deepseek',
  zai: 'zai',
};

/** Price key → our field and the decimal shift from the dataset's unit (per 1,000 → per one). */
const GENAI_KEYS: Readonly<Record<string, { field: RateField; shift: number }>> = {
  input_mtok: { field: 'input', shift: 0 },
  output_mtok: { field: 'output', shift: 0 },
  cache_read_mtok: { field: 'cache_read', shift: 0 },
  cache_write_mtok: { field: 'cache_write', shift: 0 },
  cache_write_5m_mtok: { field: 'cache_write', shift: 0 },
  cache_write_1h_mtok: { field: 'cache_write_1h', shift: 0 },
  output_reasoning_mtok: { field: 'reasoning', shift: 0 },
  input_audio_mtok: { field: 'input_audio', shift: 0 },
  output_audio_mtok: { field: 'output_audio', shift: 0 },
  input_image_mtok: { field: 'input_image', shift: 0 },
  output_image_mtok: { field: 'output_image', shift: 0 },
  web_searches_kcount: { field: 'web_search', shift: -3 },
  requests_kcount: { field: 'request', shift: -3 },
};

export function convertGenAI(text: string): ProviderFile[] {
  const raw = asArray(parseJsonExact(text));
  if (!raw) throw new Error('genai-prices: data.json is not a list of providers');
  const out: ProviderFile[] = [];
  for (const rp of raw) {
    const p = asObject(rp);
    const pid = asString(p?.id) ?? '';
    const our = GENAI_PROVIDERS[pid];
    if (!p || !our) continue;
    const pf: ProviderFile = { provider: our, models: [] };
    for (const rm of asArray(p.models) ?? []) {
      const mo = asObject(rm);
      if (!mo) continue;
      const id = asString(mo.id) ?? '';
      const m: CatalogModel = { id, kind: kindOf(id), source: 'genai-prices', prices: [] };
      matchRules(m, asObject(mo.match));
      const { periods, ignored } = pricePeriods(mo.prices, `${pid}/${id}`);
      m.prices = periods;
      let provenance = `genai-prices v2 ${pid}/${id}`;
      if (ignored.length > 0)
        provenance += ` (not modelled: ${[...new Set(ignored)].sort(byteOrder).join(', ')})`;
      m.provenance = provenance;
      pf.models.push(m);
    }
    out.push(pf);
  }
  return out;
}

function matchRules(m: CatalogModel, clause: JsonObject | undefined): void {
  for (const [k, v] of Object.entries(clause ?? {})) {
    const s = asString(v);
    switch (k) {
      case 'or':
        for (const c of asArray(v) ?? []) matchRules(m, asObject(c));
        break;
      case 'equals':
        if (s !== undefined && s.toLowerCase() !== m.id.toLowerCase()) (m.aliases ??= []).push(s);
        break;
      case 'starts_with':
        if (s !== undefined) (m.prefixes ??= []).push(s);
        break;
      case 'regex':
        if (s !== undefined && compiles(s)) (m.patterns ??= []).push(s);
        break;
      case 'contains':
        if (s !== undefined) (m.patterns ??= []).push(quoteMeta(s));
        break;
      case 'ends_with':
        if (s !== undefined) (m.patterns ??= []).push(quoteMeta(s) + '$');
        break;
    }
  }
  m.aliases?.sort(byteOrder);
}

function compiles(re: string): boolean {
  try {
    new RegExp(re, 'i');
    return true;
  } catch {
    return false;
  }
}

/** Escapes regular-expression metacharacters the way Go's regexp.QuoteMeta does. */
export function quoteMeta(s: string): string {
  return s.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&');
}

function pricePeriods(v: ExactJson | undefined, name: string): { periods: Period[]; ignored: string[] } {
  const single = asObject(v);
  const items: JsonObject[] = single ? [{ prices: single }] : [];
  if (!single) {
    const list = asArray(v);
    if (!list) throw new Error(`genai-prices ${name}: prices has an unexpected type`);
    for (const it of list) {
      const o = asObject(it);
      if (o) items.push(o);
    }
  }
  const periods: Period[] = [];
  const ignored: string[] = [];
  for (const it of items) {
    const { rates, tiers, ignored: ign } = priceRates(asObject(it.prices) ?? {});
    ignored.push(...ign);
    const c = asObject(it.constraint);
    const startTime = asString(c?.start_time);
    if (startTime !== undefined) {
      const last = periods[periods.length - 1];
      if (!last) throw new Error(`genai-prices ${name}: time window before any period`);
      const end = asString(c?.end_time) ?? '';
      (last.time_windows ??= []).push({ start: trimZ(startTime), end: trimZ(end), rates });
      continue;
    }
    const from = asString(c?.start_date);
    const period: Period = { rates };
    if (from) period.effective_from = from;
    if (tiers.length > 0) period.tiers = tiers;
    periods.push(period);
  }
  // stable: equal dates keep their order
  periods.sort((a, b) => byteOrder(a.effective_from ?? '', b.effective_from ?? ''));
  return { periods, ignored };
}

function trimZ(s: string): string {
  return s.endsWith('Z') ? s.slice(0, -1) : s;
}

function priceRates(pm: JsonObject): { rates: Rates; tiers: Tier[]; ignored: string[] } {
  const rates: Rates = {};
  const tiers = new Map<number, Rates>();
  const ignored: string[] = [];
  for (const [k, v] of Object.entries(pm)) {
    const spec = GENAI_KEYS[k];
    if (!spec) {
      ignored.push(k);
      continue;
    }
    const d = asDecimal(v);
    if (d) {
      rates[spec.field] = shifted(d, spec.shift);
      continue;
    }
    const tv = asObject(v);
    const base = asDecimal(tv?.base);
    if (base) rates[spec.field] = shifted(base, spec.shift);
    for (const t of asArray(tv?.tiers) ?? []) {
      const tm = asObject(t);
      const start = asDecimal(tm?.start);
      const price = asDecimal(tm?.price);
      if (!start || !price) continue;
      const s = Number(start.trunc().toString()); // a token count: an integer
      const tr = tiers.get(s) ?? {};
      tr[spec.field] = shifted(price, spec.shift);
      tiers.set(s, tr);
    }
  }
  return { rates, tiers: sortedTiers(tiers), ignored };
}

export function sortedTiers(m: Map<number, Rates>): Tier[] {
  return [...m.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([above, rates]) => ({ above_input_tokens: above, rates }));
}
