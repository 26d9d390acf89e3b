// Ports of store_test.go's TestImportLiteLLM and TestImportGenAIIsNoOp, and the stored catalog versions on a real
// PostgreSQL server (the in-memory store held to the same rules).
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { openDataSource, type OpenedDataSource } from '@spendops/persistence';
import { startPostgres, type TestPostgres } from '@spendops/testing';
import { loadBuiltinCatalog } from '../catalog/load';
import { defaultRefDir } from '../catalog/generate';
import { PRICING_MIGRATIONS } from '../overrides/pricing-overrides.migration';
import { diffCatalogs, diffCounts, formatDiff, type CatalogChange } from './catalog-diff';
import { importCatalog, UnknownImportFormatError } from './catalog-import';
import {
  CatalogVersionNotFoundError,
  InMemoryCatalogStore,
  PostgresCatalogStore,
  type CatalogStore,
} from './catalog-store';

const refDir = defaultRefDir();
const haveRefs = existsSync(refDir);
if (!haveRefs && process.env.CI) throw new Error(`pricing reference data missing at ${refDir}`);
const describeWithRefs = haveRefs ? describe : describe.skip;

const NOW = new Date(Date.UTC(2026, 7, 21));
const AUG_2026 = new Date(Date.UTC(2026, 7, 1, 12));
const litellm = () =>
  readFileSync(path.join(refDir, 'litellm', 'model_prices_and_context_window.json'), 'utf8');
const genai = () =>
  readFileSync(path.join(refDir, 'genai-prices', 'prices', 'new_data', 'v2', 'data.json'), 'utf8');

describeWithRefs('importCatalog', () => {
  const base = loadBuiltinCatalog();
  const litellmImport = () => importCatalog('litellm', litellm(), base, NOW);

  it('LiteLLM: adds models, changes prices with a new dated period, removes nothing, names known changes', () => {
    const { catalog, diff } = litellmImport();
    const { added, removed, changed } = diffCounts(diff);
    expect(added).toBeGreaterThan(0);
    expect(changed).toBeGreaterThan(0);
    expect(removed).toBe(0);
    const want: CatalogChange[] = [
      // genai-prices has the discounted DeepSeek base price; LiteLLM the standard one.
      {
        provider: 'deepseek',
        model: 'deepseek-chat',
        kind: 'changed',
        field: 'input',
        old: '0.135',
        new: '0.28',
      },
      // Fireworks chat models the built-in catalog leaves out.
      { provider: 'fireworks', model: 'qwen3-coder-480b-a35b-instruct', kind: 'added' },
    ];
    for (const w of want) expect(diff.changes).toContainEqual(w);
    expect(formatDiff(diff)).toContain('changed  deepseek/deepseek-chat input: 0.135 → 0.28');
    expect(formatDiff(diff)).toMatch(/^pricing diff builtin-\w+ → import-\w+: \d+ models added, 0 removed/);
    // history kept: before the import date the old price applies, from it the new one
    const dayBefore = new Date(NOW.getTime() - 86_400_000);
    expect(catalog.lookup('deepseek', 'deepseek-chat', dayBefore)!.period.rates.input!.toString()).toBe(
      '0.135',
    );
    expect(catalog.lookup('deepseek', 'deepseek-chat', NOW)!.period.rates.input!.toString()).toBe('0.28');
    const m = catalog
      .models()
      .find((x) => x.provider === 'deepseek' && x.model.id === 'deepseek-chat')!.model;
    expect(m.prices[m.prices.length - 1].effective_from).toBe('2026-08-21');
    expect(m.provenance).toContain('import litellm 2026-08-21');
    expect(catalog.models().find((x) => x.model.id === 'qwen3-coder-480b-a35b-instruct')!.model.source).toBe(
      'litellm',
    );
    // the base is not touched
    expect(base.lookup('deepseek', 'deepseek-chat', NOW)!.period.rates.input!.toString()).toBe('0.135');
  });

  it('importing the same data again changes nothing; another change the same day replaces the period of that day', () => {
    const { catalog } = litellmImport();
    expect(importCatalog('litellm', litellm(), catalog, NOW).diff.changes).toEqual([]);
    const periods = (c: typeof catalog) =>
      c.models().find((x) => x.provider === 'deepseek' && x.model.id === 'deepseek-chat')!.model.prices;
    const changedToday = JSON.stringify({
      'deepseek-chat': { litellm_provider: 'deepseek', mode: 'chat', input_cost_per_token: 3e-7 },
    });
    const later = new Date(NOW.getTime() + 3_600_000);
    const again = importCatalog('litellm', changedToday, catalog, later);
    expect(periods(again.catalog)).toHaveLength(periods(catalog).length);
    expect(periods(again.catalog).at(-1)).toMatchObject({ effective_from: '2026-08-21' });
    expect(again.catalog.lookup('deepseek', 'deepseek-chat', later)!.period.rates.input!.toString()).toBe(
      '0.3',
    );
    expect(again.diff.changes).toEqual([
      {
        provider: 'deepseek',
        model: 'deepseek-chat',
        kind: 'changed',
        field: 'input',
        old: '0.28',
        new: '0.3',
      },
    ]);
  });

  it('genai-prices (what the built-in catalog is built from) changes no price', () => {
    const { diff } = importCatalog('genai-prices', genai(), base, AUG_2026);
    if (diff.changes.length) throw new Error(formatDiff(diff).slice(0, 1500));
  });

  it('refuses an unknown format', () => {
    expect(() => importCatalog('csv', '{}', base)).toThrow(UnknownImportFormatError);
  });

  it('diffs are reproducible from stored versions', () => {
    const { catalog, diff } = litellmImport();
    expect(diffCatalogs(base, catalog, NOW).changes).toEqual(diff.changes);
    expect(diffCatalogs(catalog, base, NOW).changes.filter((c) => c.kind === 'removed').length).toBe(
      diffCounts(diff).added,
    );
  });
});

describe('stored catalog versions', () => {
  let pg: TestPostgres;
  let opened: OpenedDataSource;
  let dataDir: string;

  beforeAll(async () => {
    [pg, dataDir] = await Promise.all([startPostgres(), mkdtemp(path.join(tmpdir(), 'spendops-catalogs-'))]);
    opened = await openDataSource({ databaseUrl: pg.url, dataDir, migrations: PRICING_MIGRATIONS });
  }, 60_000);

  afterAll(async () => {
    await opened?.close();
    await pg?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  const stores: [string, () => CatalogStore][] = [
    ['PostgresCatalogStore', () => new PostgresCatalogStore(opened.dataSource)],
    ['InMemoryCatalogStore', () => new InMemoryCatalogStore()],
  ];

  it.each(stores)(
    '%s: save activates "v<N>-<hash>", activate switches, the audit keeps every change',
    async (_, make) => {
      const store = make();
      const base = loadBuiltinCatalog();
      expect((await store.current()).version).toBe(base.version);
      expect(await store.versions()).toEqual([]);
      // a small made-up dataset: one new OpenAI model
      const dataset = JSON.stringify({
        'gpt-test-import': {
          litellm_provider: 'openai',
          mode: 'chat',
          input_cost_per_token: 0.000001,
          output_cost_per_token: 0.000004,
        },
      });
      const { catalog, diff } = importCatalog('litellm', dataset, base, NOW);
      expect(diff.changes).toEqual([{ provider: 'openai', model: 'gpt-test-import', kind: 'added' }]);
      const saved = await store.save({
        catalog,
        source: 'import:litellm',
        base,
        diff,
        actor: 'cli',
        detail: 'x.json',
      });
      expect(saved.version).toMatch(/^v1-[0-9a-f]{12}$/);
      expect(saved.version.slice(3)).toBe(catalog.version.slice('import-'.length));
      const cur = await store.current();
      expect(cur.version).toBe(saved.version);
      expect(cur.lookup('openai', 'gpt-test-import', NOW)!.period.rates.output!.toString()).toBe('4');
      // a fresh store instance (another process) reads the same
      if (store instanceof PostgresCatalogStore) {
        const other = new PostgresCatalogStore(opened.dataSource);
        expect((await other.current()).version).toBe(saved.version);
        expect(diffCatalogs(base, await other.current(), NOW).changes).toEqual(diff.changes);
      }
      const versions = await store.versions();
      expect(versions).toEqual([
        expect.objectContaining({
          version: saved.version,
          source: 'import:litellm',
          base_version: base.version,
          created_by: 'cli',
          active: true,
        }),
      ]);
      await store.activate('builtin', 'api:bob');
      expect((await store.current()).version).toBe(base.version);
      expect((await store.versions())[0].active).toBe(false);
      await expect(store.activate('v9-nope', 'cli')).rejects.toThrow(CatalogVersionNotFoundError);
      await store.activate(saved.version, 'cli');
      expect((await store.current()).version).toBe(saved.version);
      const audit = await store.audit();
      expect(audit.map((a) => [a.action, a.version, a.previous, a.actor, a.added])).toEqual([
        ['import', saved.version, base.version, 'cli', 1],
        ['activate', 'builtin', saved.version, 'api:bob', 0],
        ['activate', saved.version, base.version, 'cli', 0],
      ]);
      expect(audit[0].detail).toBe('x.json');
      const second = await store.save({ catalog, source: 'import:litellm', base: cur, diff, actor: 'cli' });
      expect(second.version).toMatch(/^v2-/);
    },
  );

  it('the audit and version tables are append-only in use: no row is rewritten', async () => {
    const [{ n }] = await opened.dataSource.query('SELECT count(*)::int AS n FROM pricing_catalog_audit');
    expect(n).toBe(4);
  });
});
