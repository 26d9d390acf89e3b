// Micro-benchmark of the pricing engine: events priced per second on one core (target ≥ 50,000/s).
//
//   node scripts/pricing/run-ts.js scripts/pricing/bench-engine.ts [--seconds 3]
//
// A script, not a test: timings depend on the machine.
import { loadBuiltinCatalog, PricingEngine } from '../../apps/pricing/src';
import { extractedEvent } from '../../apps/pricing/src/testing/usage-builder';

const i = process.argv.indexOf('--seconds');
const seconds = i >= 0 ? Number(process.argv[i + 1]) : 3;

const engine = new PricingEngine(loadBuiltinCatalog());
// The reference benchmark's mix: a dated snapshot with cache reads, an Anthropic dated id, an OpenRouter
// vendor fallback, an unknown model.
const cases = [
  extractedEvent(
    'openai',
    'gpt-4o',
    { prompt_tokens: 1000, cache_read_tokens: 200, completion_tokens: 100 },
    { response_model: 'gpt-4o-2024-08-06' },
  ),
  extractedEvent('anthropic', 'claude-sonnet-4-5-20250929', { prompt_tokens: 1000, completion_tokens: 100 }),
  extractedEvent('openrouter', 'anthropic/claude-4.5-sonnet-20250929', {
    prompt_tokens: 1000,
    completion_tokens: 100,
  }),
  extractedEvent('openai', 'unknown-model', {}),
];

function run(ms: number): number {
  const until = process.hrtime.bigint() + BigInt(ms) * 1_000_000n;
  let n = 0;
  while (process.hrtime.bigint() < until) {
    for (let k = 0; k < 100; k++, n++) {
      const e = cases[n % cases.length];
      engine.price(e, e.usage);
    }
  }
  return n;
}

run(500); // warm up the JIT and the name-resolution cache
const start = process.hrtime.bigint();
const n = run(seconds * 1000);
const elapsedNs = Number(process.hrtime.bigint() - start);
const perSecond = Math.round(n / (elapsedNs / 1e9));
const perEventUs = (elapsedNs / n / 1000).toFixed(2);
process.stdout.write(
  `priced ${n} events in ${(elapsedNs / 1e9).toFixed(2)} s: ${perSecond} events/s on one core (${perEventUs} µs/event); target 50000/s\n`,
);
