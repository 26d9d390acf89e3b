// `spendops budgets create|list|show|update|delete`: the admin API's budget routes from the command line, with or
// without a server on the same data dir (or DATABASE_URL). The commands are the ledger's budget commands, served
// on an in-process bus over the database (budgets-backend.ts); a running server's ledger sees the new budget
// events through the event store's wake-up, as it sees its own.
import { Command, Option } from 'commander';
import {
  Commands,
  type BudgetReply,
  type BudgetsAlertsReply,
  type BudgetsCreateReply,
  type BudgetsCreateRequest,
  type BudgetsDeleteRequest,
  type BudgetsListReply,
  type BudgetsListRequest,
  type BudgetsUpdateRequest,
  type BudgetView,
} from '@spendops/contracts';
import { RemoteCommandError, type MessageBus } from '@spendops/messaging';
import { validateBudgetSpec } from '@spendops/budgets';
import { withBudgetBus, type BudgetBusFlags } from './budgets-backend';

interface BudgetFlags extends BudgetBusFlags {
  json?: boolean;
}

interface DefinitionFlags {
  name?: string;
  tenant?: string;
  keyId?: string;
  provider?: string;
  model?: string;
  dim?: string[];
  period?: string;
  startDay?: string;
  from?: string;
  to?: string;
  timeZone?: string;
  amountUsd?: string;
  thresholds?: string;
  enforce?: boolean;
  owner?: string;
  webhookUrl?: string;
  slackWebhookUrl?: string;
  email?: string;
}

/** Where the output goes (tests capture it). */
export interface BudgetsCliIo {
  out: (text: string) => void;
}

/** Runs `fn` against a bus serving the budget commands (tests pass their own). */
export type BudgetBusRunner = <T>(flags: BudgetBusFlags, fn: (bus: MessageBus) => Promise<T>) => Promise<T>;

const stdoutIo: BudgetsCliIo = { out: (t) => process.stdout.write(t) };

/** A one-line error for the user: the ledger's refusal says which field. */
export class BudgetCliError extends Error {}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];
const list = (value: string): string[] =>
  value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/** The flags as a budget definition (API field names); only the flags given. */
export function definitionFromFlags(flags: DefinitionFlags): Record<string, unknown> {
  const def: Record<string, unknown> = {};
  const scope: Record<string, unknown> = {};
  if (flags.tenant !== undefined) scope.tenant = flags.tenant;
  if (flags.keyId !== undefined) scope.key_id = flags.keyId;
  if (flags.provider !== undefined) scope.provider = flags.provider;
  if (flags.model !== undefined) scope.model = flags.model;
  if (flags.dim?.length) {
    const dims: Record<string, string> = {};
    for (const pair of flags.dim) {
      const eq = pair.indexOf('=');
      if (eq <= 0) throw new BudgetCliError(`--dim: "${pair}" is not KEY=VALUE`);
      dims[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
    }
    scope.dims = dims;
  }
  if (Object.keys(scope).length > 0) def.scope = scope;
  if (flags.name !== undefined) def.name = flags.name;
  if (flags.period !== undefined) def.period = flags.period;
  if (flags.startDay !== undefined) {
    if (!/^\d+$/.test(flags.startDay)) throw new BudgetCliError('--start-day: must be a whole number');
    def.start_day = Number(flags.startDay);
  }
  if (flags.from !== undefined) def.from = flags.from;
  if (flags.to !== undefined) def.to = flags.to;
  if (flags.timeZone !== undefined) def.time_zone = flags.timeZone;
  if (flags.amountUsd !== undefined) def.amount_usd = flags.amountUsd;
  if (flags.thresholds !== undefined) {
    const values = list(flags.thresholds);
    if (values.some((v) => !/^\d+(\.\d+)?$/.test(v)))
      throw new BudgetCliError('--thresholds: give percentages such as 50,75,90,100');
    def.thresholds = values.map(Number);
  }
  if (flags.enforce !== undefined) def.enforce = flags.enforce;
  if (flags.owner !== undefined) def.owner = flags.owner;
  if (flags.webhookUrl !== undefined) def.webhook_url = flags.webhookUrl;
  if (flags.slackWebhookUrl !== undefined) def.slack_webhook_url = flags.slackWebhookUrl;
  if (flags.email !== undefined) def.email = list(flags.email);
  return def;
}

/** API field name → the flag that sets it, so an error names what the user typed. */
const FLAG_OF: Record<string, string> = {
  name: '--name',
  'scope.tenant': '--tenant',
  'scope.key_id': '--key-id',
  'scope.provider': '--provider',
  'scope.model': '--model',
  period: '--period',
  start_day: '--start-day',
  from: '--from',
  to: '--to',
  time_zone: '--time-zone',
  amount_usd: '--amount-usd',
  thresholds: '--thresholds',
  owner: '--owner',
  webhook_url: '--webhook-url',
  slack_webhook_url: '--slack-webhook-url',
  email: '--email',
};

function flagOf(field: string): string {
  if (field.startsWith('scope.dims')) return '--dim';
  return FLAG_OF[field.replace(/\[\d+\]$/, '')] ?? field;
}

function checked(def: Record<string, unknown>, partial: boolean): void {
  const result = partial ? validateBudgetSpec(def, true) : validateBudgetSpec(def);
  if (!result.ok) {
    const [first] = result.errors;
    throw new BudgetCliError(`${flagOf(first.field)} (${first.field}): ${first.message}`);
  }
}

/** The ledger's refusals as one line; anything else propagates. */
async function call<Res>(bus: MessageBus, command: string, request: object): Promise<Res> {
  try {
    return await bus.request<object, Res>(command, request);
  } catch (err) {
    if (err instanceof RemoteCommandError) throw new BudgetCliError(err.message);
    throw err;
  }
}

function withCommonOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--data-dir <dir>', 'data directory (default ./spendops-data)'))
    .addOption(new Option('--config <file>', 'YAML config file'))
    .option('--json', 'print JSON');
}

function withDefinitionOptions(cmd: Command, creating: boolean): Command {
  const c = creating
    ? cmd
        .requiredOption('--name <name>', 'a name for the budget')
        .requiredOption('--amount-usd <amount>', 'the amount in USD, an exact decimal (e.g. 100.00)')
    : cmd.option('--name <name>', 'a new name').option('--amount-usd <amount>', 'a new amount in USD');
  return c
    .option('--period <period>', 'day, week, month, fiscal_month or custom', creating ? 'month' : undefined)
    .option('--start-day <n>', 'fiscal_month: day of month 1..28; week: ISO weekday 1 (Mon)..7')
    .option('--from <time>', 'custom period start, inclusive (ISO-8601 with zone)')
    .option('--to <time>', 'custom period end, exclusive (ISO-8601 with zone)')
    .option('--time-zone <zone>', 'IANA time zone of the period boundaries (default UTC)')
    .option('--tenant <tenant>', 'scope: only this tenant')
    .option('--key-id <id>', 'scope: only this API key')
    .option('--provider <provider>', 'scope: only this provider')
    .option('--model <model>', 'scope: only this model')
    .option('--dim <key=value>', 'scope: only this dimension value (repeatable)', collect)
    .option('--thresholds <list>', 'alert thresholds in percent (default 50,75,90,100)')
    .option('--enforce', 'reject requests in scope with 429 once the budget is used up')
    .option('--no-enforce', 'alerts only (the default)')
    .option('--owner <who>', 'who is notified (shown in alerts)')
    .option('--webhook-url <url>', 'signed JSON webhook for alerts (https)')
    .option('--slack-webhook-url <url>', 'Slack incoming webhook for alerts')
    .option('--email <list>', 'alert e-mail recipients, comma-separated');
}

function money(value: string): string {
  return `$${value}`;
}

function describe(b: BudgetView): string {
  const scope = [
    b.scope.tenant && `tenant=${b.scope.tenant}`,
    b.scope.key_id && `key=${b.scope.key_id}`,
    b.scope.provider && `provider=${b.scope.provider}`,
    b.scope.model && `model=${b.scope.model}`,
    ...Object.entries(b.scope.dims ?? {}).map(([k, v]) => `${k}=${v}`),
  ].filter(Boolean);
  const rows: [string, string][] = [
    ['ID', b.id],
    ['Name', b.name],
    ['Scope', scope.join(', ') || 'everything'],
    ['Period', `${b.period}${b.start_day ? ` (start day ${b.start_day})` : ''} in ${b.time_zone}`],
    ['Current period', `${b.period_start} → ${b.period_end}`],
    ['Amount', money(b.amount_usd)],
    ['Spent', `${money(b.spent_usd)} (${b.percent_used}%)`],
    ['Forecast', money(b.forecast_usd)],
    ['Thresholds', b.thresholds.map((t) => `${t}%`).join(', ')],
    ['Enforce', b.enforce ? (b.exhausted ? 'yes (exhausted: requests in scope get 429)' : 'yes') : 'no'],
  ];
  if (b.owner) rows.push(['Owner', b.owner]);
  if (b.webhook_url) rows.push(['Webhook', b.webhook_url]);
  if (b.slack_webhook_url) rows.push(['Slack', b.slack_webhook_url]);
  if (b.email?.length) rows.push(['E-mail', b.email.join(', ')]);
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n') + '\n';
}

function table(budgets: BudgetView[]): string {
  if (budgets.length === 0) return 'No budgets.\n';
  const rows = [['ID', 'NAME', 'PERIOD', 'AMOUNT', 'SPENT', 'USED', 'ENFORCE']];
  for (const b of budgets)
    rows.push([
      b.id,
      b.name,
      b.period,
      money(b.amount_usd),
      money(b.spent_usd),
      `${b.percent_used}%`,
      b.enforce ? (b.exhausted ? 'exhausted' : 'yes') : 'no',
    ]);
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

export function registerBudgetsCommands(
  program: Command,
  io: BudgetsCliIo = stdoutIo,
  runner: BudgetBusRunner = withBudgetBus,
): void {
  const budgets = program.command('budgets').description('Manage spend budgets and their alerts');
  const print = (flags: BudgetFlags, json: unknown, text: string) =>
    io.out(flags.json ? `${JSON.stringify(json)}\n` : text);

  withDefinitionOptions(
    withCommonOptions(budgets.command('create').description('Define a budget')),
    true,
  ).action(async (flags: BudgetFlags & DefinitionFlags) => {
    const spec = definitionFromFlags(flags);
    checked(spec, false);
    const reply = await runner(flags, (bus) =>
      call<BudgetsCreateReply>(bus, Commands.budgetsCreate, {
        spec,
        actor: 'cli',
      } satisfies BudgetsCreateRequest),
    );
    const b = reply.budget;
    print(
      flags,
      { ...b, webhook_secret: reply.webhook_secret },
      `Created budget ${b.id} ("${b.name}", ${money(b.amount_usd)} per ${b.period}).\n` +
        `Webhook signing secret (shown once): ${reply.webhook_secret}\n`,
    );
  });

  withCommonOptions(budgets.command('list').description('Budgets with their current period spend'))
    .option('--tenant <tenant>', 'only the budgets scoped to this tenant')
    .action(async (flags: BudgetFlags & { tenant?: string }) => {
      const request: BudgetsListRequest = flags.tenant ? { tenant: flags.tenant } : {};
      const reply = await runner(flags, (bus) => call<BudgetsListReply>(bus, Commands.budgetsList, request));
      print(flags, reply, table(reply.budgets));
    });

  withCommonOptions(budgets.command('show <id>').description('One budget, its spend and its alerts')).action(
    async (id: string, flags: BudgetFlags) => {
      const [budget, alerts] = await runner(flags, async (bus) => {
        const got = await call<BudgetReply>(bus, Commands.budgetsGet, { id });
        const history = await call<BudgetsAlertsReply>(bus, Commands.budgetsAlerts, { budget_id: id }).catch(
          (): BudgetsAlertsReply | null => null,
        );
        return [got.budget, history?.alerts ?? null] as const;
      });
      const alertLines =
        alerts === null
          ? 'Alerts: unavailable\n'
          : alerts.length === 0
            ? 'Alerts: none yet\n'
            : 'Alerts:\n' +
              alerts
                .map(
                  (a) =>
                    `  ${a.crossed_at}  ${a.threshold}%  spent ${money(a.spent_usd)}  ` +
                    (a.deliveries.map((d) => `${d.channel} ${d.status}`).join(', ') || 'no deliveries'),
                )
                .join('\n') +
              '\n';
      print(flags, { ...budget, alerts: alerts ?? [] }, describe(budget) + alertLines);
    },
  );

  withDefinitionOptions(
    withCommonOptions(
      budgets.command('update <id>').description('Change the fields given (a scope flag replaces the scope)'),
    ),
    false,
  ).action(async (id: string, flags: BudgetFlags & DefinitionFlags) => {
    const patch = definitionFromFlags(flags);
    if (Object.keys(patch).length === 0)
      throw new BudgetCliError('budgets update: give at least one field flag');
    checked(patch, true);
    const reply = await runner(flags, (bus) =>
      call<BudgetReply>(bus, Commands.budgetsUpdate, {
        id,
        patch,
        actor: 'cli',
      } satisfies BudgetsUpdateRequest),
    );
    print(flags, reply.budget, `Budget ${reply.budget.id} updated.\n`);
  });

  withCommonOptions(budgets.command('delete <id>').description('Remove a budget')).action(
    async (id: string, flags: BudgetFlags) => {
      await runner(flags, (bus) =>
        call<unknown>(bus, Commands.budgetsDelete, { id, actor: 'cli' } satisfies BudgetsDeleteRequest),
      );
      print(flags, { id, deleted: true }, `Budget ${id} deleted.\n`);
    },
  );
}
