// `spendops pricing ...`: catalog versions, imports with a diff, and re-pricing of stored events, on the database
// of a data dir (or DATABASE_URL), with or without a server. Offline-safe: datasets are read from files only.
// A running server picks a new active catalog up on its next reload (5 s) and re-prices unpriced events itself;
// `reprice` publishes `usage.repriced.v1` on an in-process bus to the ledger's own handler, which appends
// `UsageRepriced` events to the shared event store — the same path the services take over RabbitMQ.
import { Command, Option } from 'commander';
import { readFileSync } from 'node:fs';
import type { DataSource } from 'typeorm';
import {
  Topics,
  type PricedModelView,
  type PricingModelsListResponse,
  type UsageRepricedV1,
} from '@spendops/contracts';
import { EventStore, ProjectionRunner } from '@spendops/event-store';
import { InProcessBus } from '@spendops/messaging';
import {
  IMPORT_FORMATS,
  OverrideSet,
  PRICING_MIGRATIONS,
  PostgresCatalogStore,
  PostgresOverrideStore,
  PostgresRepriceRuns,
  PricingEngine,
  PricingService,
  RepricingService,
  UnpricedTracker,
  UsageViewRepriceSource,
  diffCatalogs,
  formatDiff,
  importCatalog,
  type Catalog,
} from '../../../pricing/src';
import { LEDGER_MIGRATIONS } from '../../../ledger/src/ledger.module';
import { LedgerService } from '../../../ledger/src/ledger.service';
import { UsageEventsProjection } from '../../../ledger/src/projections/usage-events.projection';
import { applyRepricing, REPRICING_PREFETCH } from '../../../ledger/src/repricing.consumer';
import { withCliDatabase } from './cli-database';

interface PricingFlags {
  dataDir?: string;
  config?: string;
  json?: boolean;
}

/** Where the output goes (tests capture it). */
export interface PricingCliIo {
  out: (text: string) => void;
}

const stdoutIo: PricingCliIo = { out: (t) => process.stdout.write(t) };

async function withDatabase<T>(flags: PricingFlags, fn: (db: DataSource) => Promise<T>): Promise<T> {
  // The ledger's tables too: re-pricing reads its read model and appends to its event store.
  return withCliDatabase(flags, [...PRICING_MIGRATIONS, ...LEDGER_MIGRATIONS], (db) => fn(db));
}

/** A PricingService over the database, for the read-only views (list, show) the admin API also serves. */
async function pricingView(db: DataSource): Promise<PricingService> {
  const catalogs = new PostgresCatalogStore(db);
  const engine = new PricingEngine(await catalogs.current());
  const bus = new InProcessBus();
  const source = new UsageViewRepriceSource(db);
  const runs = new PostgresRepriceRuns(db);
  const svc = new PricingService(
    engine,
    new UnpricedTracker(),
    new PostgresOverrideStore(db),
    { overridesReloadMs: 0 },
    catalogs,
    source,
    new RepricingService(engine, source, runs, bus),
  );
  await svc.reload();
  return svc;
}

function withCommonOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--data-dir <dir>', 'data directory (default ./spendops-data)'))
    .addOption(new Option('--config <file>', 'YAML config file'))
    .option('--json', 'print JSON');
}

export function registerPricingCommands(program: Command, io: PricingCliIo = stdoutIo): void {
  const pricing = program.command('pricing').description('Price catalog versions, imports and re-pricing');
  const print = (flags: PricingFlags, json: unknown, text: string) =>
    io.out(flags.json ? `${JSON.stringify(json, null, 2)}\n` : text);

  withCommonOptions(pricing.command('list').description('Prices in force, with expense tiers'))
    .option('--provider <provider>', 'only this provider')
    .action(async (flags: PricingFlags & { provider?: string }) => {
      const res = await withDatabase(flags, async (db) =>
        (await pricingView(db)).listModels({ provider: flags.provider }),
      );
      print(flags, res, listTable(res));
    });

  withCommonOptions(pricing.command('show <model>').description('The prices of a model, every period'))
    .option('--provider <provider>', 'only this provider')
    .action(async (model: string, flags: PricingFlags & { provider?: string }) => {
      const res = await withDatabase(flags, async (db) =>
        (await pricingView(db)).getModel({ model, provider: flags.provider }),
      );
      print(flags, res, res.models.map((m) => showModel(res.version, m)).join('\n'));
    });

  withCommonOptions(
    pricing
      .command('import <file>')
      .description('Merge a dataset into a new catalog version (activated), print the diff'),
  )
    .addOption(
      new Option('--format <format>', 'dataset format').choices([...IMPORT_FORMATS]).makeOptionMandatory(),
    )
    .option('--dry-run', 'print the diff without storing a version')
    .action(async (file: string, flags: PricingFlags & { format: string; dryRun?: boolean }) => {
      const text = readFileSync(file, 'utf8');
      await withDatabase(flags, async (db) => {
        const catalogs = new PostgresCatalogStore(db);
        const base = await catalogs.current();
        const { catalog, diff } = importCatalog(flags.format, text, base);
        let stored: Catalog | undefined;
        if (!flags.dryRun) {
          stored = await catalogs.save({
            catalog,
            source: `import:${flags.format}`,
            base,
            diff,
            actor: 'cli',
            detail: file,
          });
          diff.to = stored.version;
        }
        const tail = stored
          ? `stored and activated ${stored.version} (a running server picks it up on its next reload and re-prices unpriced events)\n`
          : 'dry run: nothing stored\n';
        print(flags, { ...diff, stored: stored?.version ?? null }, formatDiff(diff) + tail);
      });
    });

  withCommonOptions(pricing.command('versions').description('Stored catalog versions')).action(
    async (flags: PricingFlags) => {
      await withDatabase(flags, async (db) => {
        const catalogs = new PostgresCatalogStore(db);
        const versions = await catalogs.versions();
        const builtin = await catalogs.catalog('builtin');
        const active = (await catalogs.current()).version;
        const lines = [
          `builtin  ${builtin.version}  (committed)${active === builtin.version ? '  active' : ''}`,
        ];
        for (const v of versions)
          lines.push(
            `${v.version}  ${v.source}  ${v.created_at}  by ${v.created_by}${v.active ? '  active' : ''}`,
          );
        print(flags, { builtin: builtin.version, active, versions }, lines.join('\n') + '\n');
      });
    },
  );

  withCommonOptions(
    pricing
      .command('diff [from] [to]')
      .description('Price differences between versions (default: builtin → the active version)'),
  )
    .option('--at <time>', 'compare the prices in force at this time (RFC 3339; default now)')
    .action(
      async (from: string | undefined, to: string | undefined, flags: PricingFlags & { at?: string }) => {
        const at = flags.at ? parseTime('--at', flags.at) : new Date();
        await withDatabase(flags, async (db) => {
          const catalogs = new PostgresCatalogStore(db);
          const a = await catalogs.catalog(from ?? 'builtin');
          const b = to ? await catalogs.catalog(to) : await catalogs.current();
          const diff = diffCatalogs(a, b, at);
          print(flags, diff, formatDiff(diff));
        });
      },
    );

  withCommonOptions(
    pricing
      .command('activate <version>')
      .description('Make a stored version (or builtin) the active catalog'),
  ).action(async (version: string, flags: PricingFlags) => {
    const c = await withDatabase(flags, (db) => new PostgresCatalogStore(db).activate(version, 'cli'));
    print(flags, { active: c.version }, `activated ${c.version}\n`);
  });

  withCommonOptions(
    pricing
      .command('reprice')
      .description('Price stored events again with the prices in force now (UsageRepriced events, audited)'),
  )
    .option('--from <time>', 'start, inclusive (RFC 3339)')
    .option('--to <time>', 'end, exclusive (RFC 3339)')
    .option('--model <model>', 'only this model (request or response model)')
    .option('--provider <provider>', 'only this provider')
    .option('--unpriced', 'only events without a price (then --from/--to are optional)')
    .action(
      async (
        flags: PricingFlags & {
          from?: string;
          to?: string;
          model?: string;
          provider?: string;
          unpriced?: boolean;
        },
      ) => {
        const res = await withDatabase(flags, (db) =>
          repriceStored(db, {
            from: flags.from,
            to: flags.to,
            model: flags.model,
            provider: flags.provider,
            unpriced_only: flags.unpriced === true,
            actor: 'cli',
          }),
        );
        print(
          flags,
          res,
          `re-priced ${res.changed} of ${res.examined} events with ${res.catalog_version}+ov${res.overrides_version} (run ${res.run_id}): total ${res.before_usd} → ${res.after_usd} USD\n`,
        );
      },
    );
}

/**
 * Re-prices stored events from the CLI: pricing publishes `usage.repriced.v1` on an in-process bus, the ledger's
 * handler appends each, and the events view is brought up to date before returning.
 */
export async function repriceStored(
  db: DataSource,
  req: Parameters<RepricingService['reprice']>[0],
): Promise<Awaited<ReturnType<RepricingService['reprice']>>> {
  const catalogs = new PostgresCatalogStore(db);
  const stored = await new PostgresOverrideStore(db).load();
  const engine = new PricingEngine(await catalogs.current(), new OverrideSet(stored.version, stored.items));
  const bus = new InProcessBus({ maxAttempts: 3, retryBaseMs: 50, retryMaxMs: 500 });
  const events = new EventStore(db);
  const ledger = new LedgerService(events, db);
  let applied = 0;
  let failed = 0;
  let settled: () => void = () => undefined;
  await bus.subscribe<UsageRepricedV1>(
    'ledger.repricing',
    [Topics.usageRepriced],
    async (msg, env) => {
      try {
        await applyRepricing(ledger, msg);
        applied++;
      } catch (err) {
        if (env.attempt >= 3) failed++;
        throw err;
      } finally {
        settled();
      }
    },
    // The ledger group-commits the re-pricings in flight: as many in flight as the service takes.
    { prefetch: REPRICING_PREFETCH },
  );
  try {
    const res = await new RepricingService(
      engine,
      new UsageViewRepriceSource(db),
      new PostgresRepriceRuns(db),
      bus,
    ).reprice(req, 'cli reprice');
    while (applied + failed < res.changed) await new Promise<void>((r) => (settled = r));
    if (failed > 0) throw new Error(`${failed} of ${res.changed} re-pricings could not be appended`);
    const runner = new ProjectionRunner(db, events, { pollMs: 60_000 });
    runner.register(new UsageEventsProjection());
    await runner.catchUpOne('usage_events_view');
    return res;
  } finally {
    await bus.close();
  }
}

function parseTime(name: string, v: string): Date {
  const d = new Date(v);
  if (Number.isNaN(d.getTime())) throw new Error(`${name}: not a time: ${v}`);
  return d;
}

function listTable(res: PricingModelsListResponse): string {
  const rows = [['PROVIDER', 'MODEL', 'INPUT/1M', 'OUTPUT/1M', 'CACHE READ/1M', 'TIER']];
  for (const m of res.models) {
    const r = m.current.rates;
    const tier = m.expense ? `${m.expense.tier}${m.expense.warn ? ' !' : ''}` : '';
    rows.push([m.provider, m.model, r.input ?? '-', r.output ?? '-', r.cache_read ?? '-', tier]);
  }
  return `catalog ${res.version}+ov${res.overrides_version} (${res.models.length} models)\n${table(rows)}`;
}

function showModel(version: string, m: PricedModelView): string {
  const lines = [`${m.provider}/${m.model} (${m.kind ?? 'chat'}; catalog ${version}; source ${m.source})`];
  if (m.aliases?.length) lines.push(`  aliases: ${m.aliases.join(', ')}`);
  if (m.provenance) lines.push(`  provenance: ${m.provenance}`);
  if (m.expense)
    lines.push(
      `  expense: ${m.expense.tier} (score ${m.expense.cost_score}${m.expense.warn ? ', warn' : ''})`,
    );
  for (const p of m.prices ?? [m.current]) {
    lines.push(`  from ${p.effective_from ?? 'always'}:`);
    for (const [k, v] of Object.entries(p.rates)) lines.push(`    ${k} ${v}`);
    for (const t of p.tiers ?? [])
      for (const [k, v] of Object.entries(t.rates))
        lines.push(`    above ${t.above_input_tokens} input tokens: ${k} ${v}`);
    for (const [name, st] of Object.entries(p.service_tiers ?? {})) {
      if (st.multiplier) lines.push(`    service tier ${name}: × ${st.multiplier}`);
      for (const [k, v] of Object.entries(st.rates ?? {})) lines.push(`    service tier ${name}: ${k} ${v}`);
    }
    for (const w of p.time_windows ?? [])
      for (const [k, v] of Object.entries(w.rates)) lines.push(`    ${w.start}-${w.end} UTC: ${k} ${v}`);
    for (const im of p.images ?? [])
      lines.push(`    image ${[im.size, im.quality].filter(Boolean).join(' ') || 'any'}: ${im.price}`);
  }
  return lines.join('\n') + '\n';
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return (
    rows
      .map((r) =>
        r
          .map((c, i) => c.padEnd(widths[i]))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}
