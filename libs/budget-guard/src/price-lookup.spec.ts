// Reservation prices from a price sheet: the catalog's name resolution, fallbacks and tenant overrides.
import type { PriceSheetV1, ReservationPrice } from '@spendops/contracts';
import { PriceLookup, type UsdPrice } from './price-lookup';

const GPT4O: ReservationPrice = ['0.00000425', '0.000017', '0'];
const MINI: ReservationPrice = ['0.00000025', '0.000001', '0'];
const GEMINI: ReservationPrice = ['0.0000025', '0.000015', '0'];
const usd = (p: ReservationPrice): UsdPrice => [Number(p[0]), Number(p[1]), Number(p[2])];
const SHEET: PriceSheetV1 = {
  version: 'builtin-x+ov0',
  generated_at: '2026-12-01T00:00:00.000Z',
  provider_aliases: { 'google-ai-studio': 'google' },
  providers: {
    openai: {
      models: { 'gpt-4o': GPT4O, 'gpt-4o-2024-08-06': GPT4O, 'gpt-4o-mini': MINI },
      prefixes: [['gpt-4o-mini-', MINI]],
      patterns: [['^ft:gpt-4o-mini:.*$', MINI]],
      name_prefixes: ['openai/'],
      fallback: ['0.00015', '0.0006', '0'],
    },
    google: {
      models: { 'gemini-2.5-pro': GEMINI },
      prefixes: [],
      patterns: [],
      name_prefixes: ['gemini/', 'google/', 'models/'],
      fallback: ['0.000003', '0.000018', '0'],
    },
  },
  overrides: [],
  fallback: ['0.00015', '0.0006', '0.04'],
};

describe('PriceLookup', () => {
  const lookup = new PriceLookup(SHEET);

  it.each([
    ['exact id', 'openai', 'gpt-4o', GPT4O],
    ['case-insensitive alias', 'openai', 'GPT-4o-2024-08-06', GPT4O],
    ['provider prefix in the name', 'openai', 'openai/gpt-4o-mini', MINI],
    ['date suffix removed', 'openai', 'gpt-4o-2099-01-01', GPT4O],
    ['longest prefix', 'openai', 'gpt-4o-mini-search-preview', MINI],
    ['pattern', 'openai', 'ft:gpt-4o-mini:acme:x:1', MINI],
    ['unknown model: the provider maximum', 'openai', 'gpt-9', ['0.00015', '0.0006', '0']],
    ['no model named: the provider maximum', 'openai', '', ['0.00015', '0.0006', '0']],
    ['models/ path form', 'google', 'models/gemini-2.5-pro', GEMINI],
    ['route alias of the provider', 'google-ai-studio', 'gemini-2.5-pro', GEMINI],
    ['unknown provider: the sheet maximum', 'my-vllm', 'llama', ['0.00015', '0.0006', '0.04']],
  ])('%s', (_name, provider, model, price) => {
    expect(lookup.priceFor('t1', provider, model)).toEqual(usd(price as ReservationPrice));
  });

  it('applies the most specific override: own rates, a markup, a tenant before "*"', () => {
    const withOverrides = new PriceLookup({
      ...SHEET,
      overrides: [
        { tenant_id: '*', provider: '', model: 'gpt-4o*', factor: '2' },
        {
          tenant_id: 't1',
          provider: 'openai',
          model: 'gpt-4o',
          price: ['0.000001', '0.000002', '0'],
          factor: '1.5',
        },
      ],
    });
    expect(withOverrides.priceFor('t1', 'openai', 'gpt-4o')).toEqual([1.5e-6, 3e-6, 0]);
    const [input, output] = withOverrides.priceFor('t2', 'openai', 'gpt-4o');
    expect(input).toBeCloseTo(8.5e-6, 15);
    expect(output).toBeCloseTo(34e-6, 15);
    expect(withOverrides.priceFor('t2', 'google', 'gemini-2.5-pro')).toEqual(usd(GEMINI));
  });
});
