// Cross-check with genai-prices' own test vectors (tests/dataset/usages.json): for every usage block it priced
// for a provider we have, our cost equals its calculation, or the difference falls in a class listed (with its
// reason) in docs/pricing-crosscheck.md. A new class of difference fails the test.
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { TokenCounts } from '@spendops/contracts';
import { Decimal, parseDecimal } from '@spendops/money';
import { GENAI_PROVIDERS } from '../catalog/convert-genai';
import { defaultRefDir } from '../catalog/generate';
import { loadBuiltinCatalog } from '../catalog/load';
import { extractedEvent } from '../testing/usage-builder';
import { PricingEngine, type Quote } from './pricing-engine';

interface UsagesItem {
  model?: string;
  body?: { model?: string };
  extracted?: {
    usage: Record<string, number>;
    extractors: {
      provider_id: string;
      api_flavor: string;
      input_price?: string;
      output_price?: string;
      total_price?: string;
    }[];
  }[];
}

/** The difference classes of docs/pricing-crosscheck.md. */
export const KNOWN_DIFFERENCES = {
  vertexClaude:
    "Claude on genai-prices' google (Vertex AI) provider: SpendOps' google is the Gemini API, which serves no Claude models (null cost)",
  unmodelledUnit:
    'usage has a unit SpendOps does not price apart (video tokens, per-modality cache reads): priced at its parent rate',
  searchRequestFee:
    'per-request search fee genai-prices does not list (OpenAI search-preview models; fee from LiteLLM)',
  audioRate: 'audio tokens at the audio rate (from LiteLLM); genai-prices lacks it and bills them as text',
} as const;
type DifferenceClass = keyof typeof KNOWN_DIFFERENCES;

const UNMODELLED_UNITS = [
  'input_video_tokens',
  'cache_audio_read_tokens',
  'cache_image_read_tokens',
  'cache_video_read_tokens',
  'cache_text_read_tokens',
];

function tokensFromGenAI(u: Record<string, number>): Partial<TokenCounts> {
  const n = (k: string) => u[k] ?? 0;
  return {
    prompt_tokens: n('input_tokens'),
    completion_tokens: n('output_tokens'),
    cache_read_tokens: n('cache_read_tokens'),
    cache_write_tokens: n('cache_write_tokens'),
    cache_write_5m_tokens: n('cache_write_5m_tokens'),
    cache_write_1h_tokens: n('cache_write_1h_tokens'),
    reasoning_tokens: n('output_reasoning_tokens'),
    prompt_audio_tokens: n('input_audio_tokens'),
    prompt_image_tokens: n('input_image_tokens'),
    completion_audio_tokens: n('output_audio_tokens'),
    completion_image_tokens: n('output_image_tokens'),
  };
}

function classify(
  q: Quote,
  u: Record<string, number>,
  provider: string,
  model: string,
  engine: PricingEngine,
): DifferenceClass | undefined {
  if (provider === 'google' && model.includes('claude')) return 'vertexClaude';
  if (UNMODELLED_UNITS.some((k) => (u[k] ?? 0) > 0)) return 'unmodelledUnit';
  if (q.breakdown.lines.some((l) => l.unit === 'request')) return 'searchRequestFee';
  const mp = engine.catalog.lookup(provider, model, new Date());
  if (mp && mp.model.source.includes('litellm') && (mp.model.provenance ?? '').includes('input_audio'))
    return 'audioRate';
  return undefined;
}

const datasetPath = path.join(defaultRefDir(), 'genai-prices', 'tests', 'dataset', 'usages.json');
const haveDataset = existsSync(datasetPath);
if (!haveDataset && process.env.CI) throw new Error(`genai-prices usages dataset missing at ${datasetPath}`);

(haveDataset ? describe : describe.skip)('agreement with genai-prices usages.json', () => {
  it('equals genai-prices on every priced usage block, or differs for a listed reason', () => {
    const items = JSON.parse(readFileSync(datasetPath, 'utf8')) as UsagesItem[];
    const engine = new PricingEngine(loadBuiltinCatalog());
    // The dataset's prices were computed at its commit date (2026-08-21); noon UTC is DeepSeek's standard
    // window, the one genai-prices' base price does not apply in.
    const at = Date.UTC(2026, 7, 21, 12);
    let total = 0;
    let agree = 0;
    const classes = new Map<DifferenceClass, number>();
    const unexplained: string[] = [];
    for (const it of items) {
      const model = it.model || it.body?.model || '';
      for (const ex of it.extracted ?? []) {
        for (const x of ex.extractors) {
          const ours = GENAI_PROVIDERS[x.provider_id];
          if (!ours || x.input_price === undefined) continue;
          const want: Decimal =
            x.total_price !== undefined
              ? parseDecimal(x.total_price)
              : parseDecimal(x.input_price).plus(parseDecimal(x.output_price ?? '0'));
          const e = extractedEvent(
            ours,
            model,
            tokensFromGenAI(ex.usage),
            { web_search_requests: ex.usage.web_searches ?? 0 },
            { started_at_ms: at },
          );
          const q = engine.quote(e, e.usage);
          total++;
          if (q.total?.equals(want)) {
            agree++;
            continue;
          }
          const cls = classify(q, ex.usage, ours, model, engine);
          if (cls) classes.set(cls, (classes.get(cls) ?? 0) + 1);
          else
            unexplained.push(
              `${ours} ${x.api_flavor} ${model}: ours ${q.total?.toString() ?? 'null'} genai ${want.toString()} usage ${JSON.stringify(ex.usage)}`,
            );
        }
      }
    }
    const summary = { total, agree, ...Object.fromEntries(classes) };
    process.stdout.write(`usages.json cross-check: ${JSON.stringify(summary)}\n`);
    expect(unexplained).toEqual([]);
    expect(total).toBeGreaterThan(1000);
    // Excluding the Vertex-only rows, agreement stays above 99 %.
    const comparable = total - (classes.get('vertexClaude') ?? 0);
    expect(agree / comparable).toBeGreaterThan(0.99);
  });
});
