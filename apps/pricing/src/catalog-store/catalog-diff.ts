// Differences between the prices two catalogs have in force at a time: models added or removed, and every
// flattened price field (rates, tiers, service tiers, images, time windows) that changed.
import { Decimal, formatDecimal } from '@spendops/money';
import type { Catalog } from '../catalog/catalog';
import { byteOrder } from '../catalog/json-read';
import { RATE_FIELDS, type CatalogModel, type Period, type Rates } from '../catalog/schema';

export interface CatalogChange {
  provider: string;
  model: string;
  /** A whole model added or removed, or one price field changed (field, old and new; '' when absent). */
  kind: 'added' | 'removed' | 'changed';
  field?: string;
  old?: string;
  new?: string;
}

export interface CatalogDiff {
  from: string;
  to: string;
  changes: CatalogChange[];
}

export function diffCounts(d: CatalogDiff): { added: number; removed: number; changed: number } {
  const c = { added: 0, removed: 0, changed: 0 };
  for (const ch of d.changes) c[ch.kind]++;
  return c;
}

/** The diff for people, one line per change. */
export function formatDiff(d: CatalogDiff): string {
  const { added, removed, changed } = diffCounts(d);
  const lines = [
    `pricing diff ${d.from} → ${d.to}: ${added} models added, ${removed} removed, ${changed} prices changed`,
  ];
  for (const ch of d.changes) {
    if (ch.kind === 'changed') {
      lines.push(`changed  ${ch.provider}/${ch.model} ${ch.field}: ${ch.old || '-'} → ${ch.new || '-'}`);
    } else lines.push(`${ch.kind.padEnd(8)} ${ch.provider}/${ch.model}`);
  }
  return lines.join('\n') + '\n';
}

export function diffCatalogs(from: Catalog, to: Catalog, at: Date): CatalogDiff {
  const d: CatalogDiff = { from: from.version, to: to.version, changes: [] };
  const fm = flatModels(from, at);
  const tm = flatModels(to, at);
  for (const [k, fv] of fm) {
    const [provider, model] = k.split('\u0000');
    const tv = tm.get(k);
    if (!tv) {
      d.changes.push({ provider, model, kind: 'removed' });
      continue;
    }
    for (const [field, ov] of fv) {
      const nv = tv.get(field) ?? '';
      if (nv !== ov) d.changes.push({ provider, model, kind: 'changed', field, old: ov, new: nv });
    }
    for (const [field, nv] of tv) {
      if (!fv.has(field)) d.changes.push({ provider, model, kind: 'changed', field, old: '', new: nv });
    }
  }
  for (const k of tm.keys()) {
    if (!fm.has(k)) {
      const [provider, model] = k.split('\u0000');
      d.changes.push({ provider, model, kind: 'added' });
    }
  }
  d.changes.sort(
    (a, b) =>
      byteOrder(a.provider, b.provider) ||
      byteOrder(a.model, b.model) ||
      byteOrder(a.field ?? '', b.field ?? ''),
  );
  return d;
}

function flatModels(c: Catalog, at: Date): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  for (const { provider, model } of c.models()) {
    out.set(`${provider}\u0000${model.id}`, flattenPeriod(rawPeriodAt(model, at)));
  }
  return out;
}

/** The period in force at a time (the last whose effective_from is not after it; before the first, the first). */
export function rawPeriodAt(m: CatalogModel, at: Date): Period {
  const day = at.toISOString().slice(0, 10);
  let p = m.prices[0];
  for (const q of m.prices) if (!q.effective_from || q.effective_from <= day) p = q;
  return p;
}

const norm = (v: string): string => formatDecimal(new Decimal(v));

/** A period as field → value, e.g. "input", "tier>200000.output", "service.batch.multiplier", "image.1024x1024.hd". */
export function flattenPeriod(p: Period): Map<string, string> {
  const out = new Map<string, string>();
  const addRates = (prefix: string, r: Rates | undefined) => {
    for (const f of RATE_FIELDS) {
      const v = r?.[f];
      if (v !== undefined) out.set(prefix + f, norm(v));
    }
  };
  addRates('', p.rates);
  for (const t of p.tiers ?? []) addRates(`tier>${t.above_input_tokens}.`, t.rates);
  for (const w of p.time_windows ?? []) addRates(`window ${w.start}-${w.end}.`, w.rates);
  for (const [name, st] of Object.entries(p.service_tiers ?? {})) {
    if (st.multiplier !== undefined) out.set(`service.${name}.multiplier`, norm(st.multiplier));
    addRates(`service.${name}.`, st.rates);
    for (const t of st.tiers ?? []) addRates(`service.${name}.tier>${t.above_input_tokens}.`, t.rates);
  }
  for (const im of p.images ?? []) {
    const key = `${im.size ?? ''}.${im.quality ?? ''}`.replace(/^\.+|\.+$/g, '');
    out.set(`image.${key}`, norm(im.price));
  }
  return out;
}

/** Two periods with the same prices (effective dates aside). */
export function samePeriod(a: Period, b: Period): boolean {
  const fa = flattenPeriod(a);
  const fb = flattenPeriod(b);
  if (fa.size !== fb.size) return false;
  for (const [k, v] of fa) if (fb.get(k) !== v) return false;
  return true;
}
