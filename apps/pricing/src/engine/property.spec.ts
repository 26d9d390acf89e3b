// Property tests (port of property_test.go plus the brief's: additive over buckets, monotone in tokens, exact
// under re-pricing), over random usages of random catalog models with a seeded generator.
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { TokenCounts } from '@spendops/contracts';
import { COST_SCALE, Decimal, formatDecimal, parseDecimal, sumDecimals, ZERO } from '@spendops/money';
import { loadBuiltinCatalog, builtinCatalogPath } from '../catalog/load';
import { extractedEvent } from '../testing/usage-builder';
import { billableUsage, PricingEngine } from './pricing-engine';
import { computeCost, type BillableUsage } from './cost';
import type { DecimalRates } from '../catalog/compiled';

/** mulberry32: small, seeded, reproducible. */
function rng(seed: number): (n: number) => number {
  let a = seed;
  return (n: number) => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}

const SERVICE_TIERS = ['', 'batch', 'flex', 'priority'];
const INPUT_UNITS = new Set([
  'cache_read',
  'cache_write',
  'cache_write_1h',
  'input_audio',
  'input_image',
  'input',
]);
const OUTPUT_UNITS = new Set(['reasoning', 'output_audio', 'output_image', 'output']);

describe('pricing properties', () => {
  const engine = new PricingEngine(loadBuiltinCatalog());
  const models = engine.catalog.models();

  function randomEvent(r: (n: number) => number) {
    const pm = models[r(models.length)];
    const prompt = r(400_000);
    const completion = r(50_000);
    // sometimes inconsistent (subset > parent), as buggy providers report
    const part = (n: number) => (n === 0 ? 0 : r(n + Math.floor(n / 4) + 1));
    const tokens: Partial<TokenCounts> = {
      prompt_tokens: prompt,
      completion_tokens: completion,
      cache_read_tokens: part(Math.floor(prompt / 2)),
      cache_write_tokens: part(Math.floor(prompt / 3)),
      reasoning_tokens: part(completion),
      prompt_audio_tokens: part(Math.floor(prompt / 10)),
      completion_audio_tokens: part(Math.floor(completion / 10)),
    };
    tokens.cache_write_1h_tokens = part(tokens.cache_write_tokens!);
    return extractedEvent(pm.provider, pm.model.id, tokens, {
      service_tier: SERVICE_TIERS[r(SERVICE_TIERS.length)],
      web_search_requests: r(3),
    });
  }

  it('cost is the exact sum of non-negative leaves that never bill more tokens than reported', () => {
    const r = rng(12);
    const stored: string[] = [];
    let sum = ZERO;
    for (let i = 0; i < 2000; i++) {
      const e = randomEvent(r);
      const q = engine.quote(e, e.usage);
      expect(q.matched).toBe(true); // every catalog model resolves to itself
      let leaves = ZERO;
      let inTok = 0;
      let outTok = 0;
      for (const l of q.breakdown.lines) {
        expect(l.cost.isNegative() || l.quantity.isNegative()).toBe(false);
        leaves = leaves.plus(l.cost);
        if (INPUT_UNITS.has(l.unit)) inTok += Number(l.quantity.toString());
        if (OUTPUT_UNITS.has(l.unit)) outTok += Number(l.quantity.toString());
      }
      expect(leaves.equals(q.breakdown.total)).toBe(true);
      expect(inTok).toBeLessThanOrEqual(e.usage.prompt_tokens);
      expect(outTok).toBeLessThanOrEqual(e.usage.completion_tokens);
      if (q.total) {
        expect(q.total.decimalPlaces()).toBeLessThanOrEqual(COST_SCALE);
        sum = sum.plus(q.total);
        stored.push(formatDecimal(q.total));
      }
    }
    // sums of stored strings are exact
    expect(sumDecimals(stored).equals(sum)).toBe(true);
    expect(stored.length).toBeGreaterThan(1500);
  });

  it('is exact under re-pricing: the same event prices to the same strings, and stored strings round-trip', () => {
    const r = rng(7);
    for (let i = 0; i < 500; i++) {
      const e = randomEvent(r);
      const a = engine.price(e, e.usage);
      const b = engine.price(structuredClone(e), structuredClone(e.usage));
      expect(b).toEqual(a);
      if (a.total_cost_usd !== null)
        expect(formatDecimal(parseDecimal(a.total_cost_usd))).toBe(a.total_cost_usd);
    }
  });

  it('is monotone in tokens: more uncached input or output never costs less', () => {
    const r = rng(99);
    for (let i = 0; i < 1000; i++) {
      const e = randomEvent(r);
      const base = engine.quote(e, e.usage).total!;
      const more = structuredClone(e);
      const extraIn = r(300_000);
      const extraOut = r(30_000);
      more.usage.prompt_tokens += extraIn;
      more.usage.completion_tokens += extraOut;
      const after = engine.quote(more, more.usage).total!;
      if (after.lessThan(base)) {
        throw new Error(
          `${e.provider}/${e.usage.model}: +${extraIn}/+${extraOut} tokens cost ${after} < ${base}`,
        );
      }
    }
  });

  it('is additive over buckets: pricing each bucket alone and summing equals pricing them together', () => {
    const r = rng(5);
    const rates: DecimalRates = {
      input: new Decimal('3'),
      cache_read: new Decimal('0.3'),
      cache_write: new Decimal('3.75'),
      cache_write_1h: new Decimal('6'),
      output: new Decimal('15'),
      reasoning: new Decimal('17.5'),
      input_audio: new Decimal('40'),
      output_audio: new Decimal('80'),
      web_search: new Decimal('0.01'),
    };
    const empty = billableUsage({ http_status: 200 }, extractedEvent('p', 'm').usage);
    const only = (patch: Partial<BillableUsage>): BillableUsage => ({ ...empty, requests: 0, ...patch });
    for (let i = 0; i < 1000; i++) {
      const b = {
        cacheRead: r(10_000),
        cacheWrite5m: r(10_000),
        cacheWrite1h: r(10_000),
        promptAudio: r(10_000),
        uncached: r(100_000),
        reasoning: r(10_000),
        completionAudio: r(10_000),
        output: r(10_000),
        webSearches: r(4),
      };
      const whole = computeCost(
        rates,
        [],
        only({
          prompt: b.cacheRead + b.cacheWrite5m + b.cacheWrite1h + b.promptAudio + b.uncached,
          cacheRead: b.cacheRead,
          cacheWrite: b.cacheWrite5m + b.cacheWrite1h,
          cacheWrite1h: b.cacheWrite1h,
          promptAudio: b.promptAudio,
          completion: b.reasoning + b.completionAudio + b.output,
          reasoning: b.reasoning,
          completionAudio: b.completionAudio,
          webSearches: b.webSearches,
        }),
      ).total;
      const parts = [
        only({ prompt: b.cacheRead, cacheRead: b.cacheRead }),
        only({ prompt: b.cacheWrite5m, cacheWrite: b.cacheWrite5m }),
        only({ prompt: b.cacheWrite1h, cacheWrite: b.cacheWrite1h, cacheWrite1h: b.cacheWrite1h }),
        only({ prompt: b.promptAudio, promptAudio: b.promptAudio }),
        only({ prompt: b.uncached }),
        only({ completion: b.reasoning, reasoning: b.reasoning }),
        only({ completion: b.completionAudio, completionAudio: b.completionAudio }),
        only({ completion: b.output }),
        only({ webSearches: b.webSearches }),
      ].reduce((s, u) => s.plus(computeCost(rates, [], u).total), ZERO);
      expect(formatDecimal(parts)).toBe(formatDecimal(whole));
    }
  });

  // Money never passes through a binary float.
  it('keeps floats out of the cost math and the catalog', () => {
    const sources = [
      path.join(__dirname, '..'),
      path.join(__dirname, '..', '..', '..', '..', 'libs', 'money', 'src'),
    ]
      .flatMap((dir) => walk(dir))
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.spec.ts'));
    expect(sources.length).toBeGreaterThan(10);
    for (const f of sources) {
      const text = readFileSync(f, 'utf8');
      expect({
        file: f,
        hit: /parseFloat|\.toNumber\(|toFixed\(|Number\(\s*[a-z]+\.price/.exec(text)?.[0],
      }).toEqual({
        file: f,
        hit: undefined,
      });
    }
    // every number in the catalog is an integer (token thresholds, the schema version); prices are strings
    const numbers = readFileSync(builtinCatalogPath(), 'utf8').match(/:\s*-?\d[\d.eE+-]*\s*[,\n}]/g) ?? [];
    expect(numbers.length).toBeGreaterThan(0);
    for (const n of numbers) expect(n).toMatch(/^:\s*\d+\s*[,\n}]$/);
  });
});

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? walk(path.join(dir, d.name)) : [path.join(dir, d.name)],
  );
}
