// The ledger's budget commands for the CLI: BudgetService and the alert history on the database of a data dir
// (or DATABASE_URL), served on a private in-process bus. When a server's ledger is running on that database (its
// projection runner listens for new events) it applies the new events itself, as for its own commands, and
// publishes what the proxies need; otherwise the CLI runs the budgets projection in this process so the answer
// shows the change.
import { Commands, type BudgetsAlertsRequest } from '@spendops/contracts';
import { EVENTS_CHANNEL, EventStore, ProjectionRunner } from '@spendops/event-store';
import { InProcessBus, type MessageBus } from '@spendops/messaging';
import type { MigrationClass } from '@spendops/persistence';
import type { DataSource } from 'typeorm';
import { AlertDeliveryStore, BUDGET_ALERTS_MIGRATIONS } from '../../../ledger/src/budget-alerts';
import { BudgetCommandsHandler } from '../../../ledger/src/budgets/budget-commands.handler';
import { BudgetService, BudgetsProjection, LEDGER_MIGRATIONS } from '../../../ledger/src';
import { withCliDatabase } from './cli-database';

export interface BudgetBusFlags {
  dataDir?: string;
  config?: string;
}

const MIGRATIONS: MigrationClass[] = [
  ...new Set<MigrationClass>([...LEDGER_MIGRATIONS, ...BUDGET_ALERTS_MIGRATIONS]),
];

/** A running ledger's projection runner holds a connection listening on the event store's wake-up channel. */
export async function ledgerRunning(db: DataSource): Promise<boolean> {
  const [row] = await db.query(
    `SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = current_database()
       AND pid <> pg_backend_pid() AND query = $1) AS live`,
    [`LISTEN ${EVENTS_CHANNEL}`],
  );
  return row?.live === true;
}

/** Serves Commands.budgets* (the ledger's handler) and the alert history on `bus` from the database. */
export async function serveBudgetCommands(bus: MessageBus, db: DataSource): Promise<void> {
  const store = new EventStore(db);
  const runner = new ProjectionRunner(db, store, { pollMs: 60_000 });
  if (!(await ledgerRunning(db))) runner.register(new BudgetsProjection(store, null));
  await new BudgetCommandsHandler(bus, new BudgetService(store, db, runner)).onModuleInit();
  const alerts = new AlertDeliveryStore(db);
  await bus.handle(Commands.budgetsAlerts, async (r: BudgetsAlertsRequest) => ({
    alerts: await alerts.history(r.budget_id, 200),
  }));
}

export async function withBudgetBus<T>(
  flags: BudgetBusFlags,
  fn: (bus: MessageBus) => Promise<T>,
): Promise<T> {
  return withCliDatabase(flags, MIGRATIONS, async (db) => {
    const bus = new InProcessBus();
    try {
      await serveBudgetCommands(bus, db);
      return await fn(bus);
    } finally {
      await bus.close();
    }
  });
}
