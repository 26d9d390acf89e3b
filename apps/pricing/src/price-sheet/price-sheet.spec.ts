// The reservation price sheet: upper bounds per model from the built-in catalog (service tiers, long-context
// tiers, cache writes, future periods), overrides, and the publisher on the real in-process bus.
import { Test, type TestingModule } from '@nestjs/testing';
import { Commands, Topics, type PriceSheetV1 } from '@spendops/contracts';
import { InProcessBus } from '@spendops/messaging';
import { captureMessages, globalBusModule } from '@spendops/testing';
import { Decimal } from '@spendops/money';
import { Catalog } from '../catalog/catalog';
import { loadBuiltinCatalog } from '../catalog/load';
import { OverrideSet } from '../engine/overrides';
import { PricingModule } from '../pricing.module';
import { PricingService } from '../pricing.service';
import { buildPriceSheet } from './price-sheet.builder';
import { PriceSheetPublisher } from './price-sheet.publisher';

const close = (a: string, b: string) => expect(a).toBe(b);

describe('buildPriceSheet', () => {
  const sheet = buildPriceSheet(loadBuiltinCatalog(), OverrideSet.EMPTY, new Date('2026-12-01T00:00:00Z'));

  it('takes the most expensive rate of every service tier (gpt-4o priority: 4.25 / 17 per million)', () => {
    const [input, output, fee] = sheet.providers.openai.models['gpt-4o'];
    close(input, '0.00000425');
    close(output, '0.000017');
    expect(fee).toBe('0');
    expect(sheet.providers.openai.models['gpt-4o-2024-08-06']).toEqual(
      sheet.providers.openai.models['gpt-4o'],
    );
  });

  it('includes long-context tiers and 1-hour cache writes on the input side (claude-sonnet-4-5)', () => {
    const [input, output] = sheet.providers.anthropic.models['claude-sonnet-4-5'];
    close(input, '0.000012'); // cache_write_1h above 200k input tokens
    close(output, '0.0000225');
  });

  it('gives each provider a fallback that is its most expensive model and the sheet an overall one', () => {
    const openai = sheet.providers.openai;
    for (const price of Object.values(openai.models)) {
      expect(new Decimal(openai.fallback[0]).gte(price[0])).toBe(true);
      expect(new Decimal(openai.fallback[1]).gte(price[1])).toBe(true);
    }
    expect(new Decimal(sheet.fallback[1]).gte(openai.fallback[1])).toBe(true);
    expect(sheet.providers.google.name_prefixes).toContain('models/');
    expect(sheet.provider_aliases['google-ai-studio']).toBe('google');
    expect(sheet.version).toBe(`${loadBuiltinCatalog().version}+ov0`);
  });

  it('counts a period that starts later (a price rise announced ahead) and skips periods already replaced', () => {
    const cat = Catalog.fromProviders([
      {
        provider: 'acme',
        models: [
          {
            id: 'm1',
            source: 'manual',
            prefixes: ['m1-'],
            patterns: ['^mx-\\d+$'],
            prices: [
              { rates: { input: '100', output: '100' } },
              { effective_from: '2026-01-01', rates: { input: '1', output: '2', request: '0.01' } },
              { effective_from: '2027-01-01', rates: { input: '3', output: '1' } },
            ],
          },
        ],
      },
    ]);
    const s = buildPriceSheet(cat, OverrideSet.EMPTY, new Date('2026-06-01T00:00:00Z'));
    const [input, output, fee] = s.providers.acme.models.m1;
    close(input, '0.000003');
    close(output, '0.000002');
    close(fee, '0.01');
    expect(s.providers.acme.prefixes).toEqual([['m1-', s.providers.acme.models.m1]]);
    expect(s.providers.acme.patterns).toEqual([['^mx-\\d+$', s.providers.acme.models.m1]]);
  });

  it('carries overrides with their own rates and markups', () => {
    const set = new OverrideSet(3, [
      { id: 1, tenant_id: 't1', model: 'gpt-4o*', rates: { input: '5', output: '20' }, created_at: '' },
      { id: 2, tenant_id: '*', provider: 'openai', model: '*', markup_pct: '10', created_at: '' },
    ]);
    const s = buildPriceSheet(loadBuiltinCatalog(), set);
    expect(s.version).toMatch(/\+ov3$/);
    expect(s.overrides[0]).toMatchObject({ tenant_id: 't1', provider: '', model: 'gpt-4o*' });
    close(s.overrides[0].price![0], '0.000005');
    close(s.overrides[0].price![1], '0.00002');
    expect(s.overrides[0].factor).toBeUndefined();
    expect(s.overrides[1]).toMatchObject({ tenant_id: '*', provider: 'openai', model: '*' });
    close(s.overrides[1].factor!, '1.1');
    expect(s.overrides[1].price).toBeUndefined();
  });
});

describe('PriceSheetPublisher', () => {
  let app: TestingModule;
  let bus: InProcessBus;

  beforeAll(async () => {
    bus = new InProcessBus({ maxAttempts: 3, retryBaseMs: 5, retryMaxMs: 20 });
  });

  afterAll(async () => {
    await app?.close();
    await bus.close();
  });

  it('publishes at start, serves the sheet by command, and republishes when the overrides change', async () => {
    const sheets = await captureMessages<PriceSheetV1>(bus, 'sheet-test', [Topics.priceSheet]);
    app = await Test.createTestingModule({
      imports: [globalBusModule(bus), PricingModule.forRoot()],
    }).compile();
    await app.init();
    await sheets.waitFor(1);
    const first = sheets.envelopes[0].payload;
    expect(first.version).toMatch(/\+ov0$/);
    const served = await bus.request<Record<string, never>, PriceSheetV1>(Commands.pricingPriceSheet, {});
    expect(served.version).toBe(first.version);
    expect(served.providers.openai.models['gpt-4o-mini']).toEqual(
      first.providers.openai.models['gpt-4o-mini'],
    );

    await app.get(PricingService).addOverride({ tenant_id: 't9', model: 'gpt-4o-mini', markup_pct: '50' });
    await app.get(PriceSheetPublisher).publishIfChanged(false);
    await sheets.waitFor(2);
    const second = sheets.envelopes[1].payload;
    expect(second.version).toMatch(/\+ov1$/);
    expect(second.overrides).toEqual([
      { tenant_id: 't9', provider: '', model: 'gpt-4o-mini', factor: '1.5' },
    ]);
    // Unchanged: nothing more is published.
    expect(await app.get(PriceSheetPublisher).publishIfChanged(false)).toBe(false);
  });
});
