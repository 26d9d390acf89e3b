// `spendops projections status|rebuild`: works with or without a server on the same data dir (or DATABASE_URL).
// A rebuild runs online: one transaction empties the read model (DELETE, so API readers keep the old rows until
// it commits), replays the events from position zero and stores the new checkpoint while holding the
// projection's advisory lock; the server's runner skips that projection meanwhile and ingestion (appends) goes on.
import { Command, Option } from 'commander';
import { EventStore, ProjectionRunner, type ProjectionStatus } from '@spendops/event-store';
import { LEDGER_MIGRATIONS, ledgerProjections } from '../../../ledger/src';
import { withCliDatabase } from './cli-database';

export interface ProjectionsFlags {
  dataDir?: string;
  config?: string;
  json?: boolean;
}

export interface RebuildResult {
  name: string;
  /** Events replayed (the catch-up after the rebuild's commit included). */
  events: number;
  seconds: number;
}

/** Opens the ledger's database and a runner with the ledger's projections registered (never started). */
async function withRunner<T>(
  flags: ProjectionsFlags,
  fn: (runner: ProjectionRunner) => Promise<T>,
): Promise<T> {
  return withCliDatabase(flags, [...LEDGER_MIGRATIONS], (db) => {
    const store = new EventStore(db);
    const runner = new ProjectionRunner(db, store, {});
    for (const projection of ledgerProjections(null, store)) runner.register(projection);
    return fn(runner);
  });
}

export async function projectionsStatus(flags: ProjectionsFlags): Promise<ProjectionStatus[]> {
  return withRunner(flags, (runner) => runner.status());
}

/** Rebuild one projection, or every rebuildable one when `name` is omitted. */
export async function rebuildProjections(flags: ProjectionsFlags, name?: string): Promise<RebuildResult[]> {
  return withRunner(flags, async (runner) => {
    const statuses = await runner.status();
    let targets: string[];
    if (name) {
      const found = statuses.find((s) => s.name === name);
      if (!found)
        throw new Error(`unknown projection ${name} (known: ${statuses.map((s) => s.name).join(', ')})`);
      if (!found.rebuildable)
        throw new Error(`projection ${name} cannot be rebuilt (replaying it would republish every event)`);
      targets = [name];
    } else {
      targets = statuses.filter((s) => s.rebuildable).map((s) => s.name);
    }
    const out: RebuildResult[] = [];
    for (const target of targets) {
      const started = process.hrtime.bigint();
      const events = await runner.rebuild(target);
      out.push({ name: target, events, seconds: Number(process.hrtime.bigint() - started) / 1e9 });
    }
    return out;
  });
}

function withCommonOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--data-dir <dir>', 'data directory (default ./spendops-data)'))
    .addOption(new Option('--config <file>', 'YAML config file'))
    .option('--json', 'print JSON');
}

export function registerProjectionsCommands(program: Command): void {
  const projections = program
    .command('projections')
    .description('Inspect and rebuild the read models fed by the event store');

  withCommonOptions(
    projections.command('status').description('Checkpoint, lag and heartbeat of every projection'),
  ).action(async (flags: ProjectionsFlags) => {
    const statuses = await projectionsStatus(flags);
    process.stdout.write(
      flags.json ? `${JSON.stringify({ projections: statuses })}\n` : statusTable(statuses, new Date()),
    );
  });

  withCommonOptions(
    projections
      .command('rebuild [name]')
      .description('Rebuild a projection (default: every rebuildable one) from position zero, online'),
  ).action(async (name: string | undefined, flags: ProjectionsFlags) => {
    const results = await rebuildProjections(flags, name);
    process.stdout.write(
      flags.json
        ? `${JSON.stringify({ rebuilt: results })}\n`
        : results.map((r) => `Rebuilt ${r.name}: ${r.events} events in ${r.seconds.toFixed(2)}s.\n`).join(''),
    );
  });
}

function ago(iso: string | null, now: Date): string {
  if (!iso) return '-';
  const seconds = Math.max(0, Math.round((now.getTime() - Date.parse(iso)) / 1000));
  return `${iso} (${seconds}s ago)`;
}

export function statusTable(statuses: ProjectionStatus[], now: Date): string {
  const rows = [['PROJECTION', 'CHECKPOINT', 'LAG', 'UPDATED', 'HEARTBEAT', 'REBUILDABLE']];
  for (const s of statuses) {
    rows.push([
      s.name,
      `${s.checkpoint.transaction_id}/${s.checkpoint.global_position}`,
      String(s.lag),
      s.updated_at ?? '-',
      ago(s.heartbeat_at, now),
      s.rebuildable ? 'yes' : 'no',
    ]);
  }
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
