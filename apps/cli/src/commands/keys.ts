// `spendops keys ...`: works with or without a server on the same data dir (or DATABASE_URL). The CLI writes
// through the auth service's KeyService on the database directly; a running server learns of the change through
// a PostgreSQL NOTIFY that its auth service relays as `auth.key.changed.v1` to every proxy.
import { Command, Option } from 'commander';
import { AUTH_MIGRATIONS, KeyRepository, KeyService } from '../../../auth/src';
import type { KeyPolicy, KeyView, RateLimits } from '@spendops/contracts';
import { loadServerSecret } from '../serve/server-secret';
import { NotifyingKeyBus } from '../serve/notifying-key-bus';
import { withCliDatabase } from './cli-database';
import { serverSecretFromHex } from '@spendops/policy';

interface KeysFlags {
  dataDir?: string;
  config?: string;
  json?: boolean;
}

async function withKeyService<T>(flags: KeysFlags, fn: (keys: KeyService) => Promise<T>): Promise<T> {
  return withCliDatabase(flags, [...AUTH_MIGRATIONS], (db, config) => {
    const secret = serverSecretFromHex(loadServerSecret(config));
    return fn(new KeyService(new KeyRepository(db), new NotifyingKeyBus(db), { serverSecret: secret }));
  });
}

const list = (value: string): string[] =>
  value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

function print(flags: KeysFlags, json: unknown, text: string): void {
  process.stdout.write(flags.json ? `${JSON.stringify(json)}\n` : text);
}

function withCommonOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--data-dir <dir>', 'data directory (default ./spendops-data)'))
    .addOption(new Option('--config <file>', 'YAML config file'))
    .option('--json', 'print JSON');
}

export function registerKeysCommands(program: Command): void {
  const keys = program.command('keys').description('Manage SpendOps API keys');

  withCommonOptions(keys.command('create').description('Create a key (printed once)'))
    .requiredOption('--name <name>', 'a name for the key')
    .option('--tenant <tenant>', 'tenant id', 'default')
    .option('--providers <list>', 'provider allow-list (default *)', list)
    .option('--models <list>', 'model allow-list: *, provider:model, provider:prefix*', list)
    .option('--dims-required', 'reject requests without X-ASO-Dims')
    .option('--dims-allowed <list>', 'allowed dimension keys (default team,env,app)', list)
    .option(
      '--rate-limits <json>',
      'rate limits as JSON (docs/rate-limits.md), e.g. {"requests_per_minute":60}',
    )
    .action(async (flags: KeysFlags & PolicyFlags & { name: string; tenant: string }) => {
      const policy = policyFromFlags(flags);
      const created = await withKeyService(flags, (svc) =>
        svc.create({ name: flags.name, tenant: flags.tenant, policy, actor: 'cli' }),
      );
      print(
        flags,
        { id: created.view.id, key: created.key, name: created.view.name, tenant: created.view.tenant },
        `Created key ${created.view.id} (name "${created.view.name}", tenant "${created.view.tenant}"). It is shown once:\n${created.key}\n`,
      );
    });

  withCommonOptions(keys.command('list').description('List keys (never their secrets)')).action(
    async (flags: KeysFlags) => {
      const views = await withKeyService(flags, (svc) => svc.list());
      print(flags, { keys: views }, table(views));
    },
  );

  for (const [verb, past] of [
    ['revoke', 'revoked'],
    ['activate', 'activated'],
  ] as const) {
    withCommonOptions(
      keys.command(`${verb} <id>`).description(`${verb[0].toUpperCase()}${verb.slice(1)} a key`),
    ).action(async (id: string, flags: KeysFlags) => {
      const view = await withKeyService(flags, (svc) =>
        verb === 'revoke' ? svc.revoke(id, 'cli') : svc.activate(id, 'cli'),
      );
      print(flags, view, `Key ${view.id} ${past}.\n`);
    });
  }

  withCommonOptions(keys.command('update <id>').description("Change a key's policy (only the flags given)"))
    .option('--providers <list>', 'provider allow-list (* = all)', list)
    .option('--models <list>', 'model allow-list: *, provider:model, provider:prefix*', list)
    .option('--dims-required', 'reject requests without X-ASO-Dims')
    .option('--dims-optional', 'accept requests without X-ASO-Dims')
    .option('--dims-allowed <list>', 'allowed dimension keys', list)
    .option('--rate-limits <json>', 'rate limits as JSON (docs/rate-limits.md); null removes them')
    .action(async (id: string, flags: KeysFlags & PolicyFlags & { dimsOptional?: boolean }) => {
      if (flags.dimsRequired && flags.dimsOptional) {
        throw new Error('--dims-required and --dims-optional: give one of them');
      }
      const patch = policyFromFlags(flags);
      if (flags.dimsOptional) patch.dims_required = false;
      if (Object.keys(patch).length === 0) throw new Error('keys update: give at least one policy flag');
      const view = await withKeyService(flags, (svc) => svc.updatePolicy(id, patch, 'cli'));
      print(flags, view, `Key ${view.id} policy updated.\n`);
    });

  withCommonOptions(
    keys.command('rotate <id>').description('New secret for a key; the old one works for --grace'),
  )
    .option('--grace <seconds>', 'seconds the old secret keeps working', '0')
    .action(async (id: string, flags: KeysFlags & { grace: string }) => {
      const grace = Number(flags.grace);
      const rotated = await withKeyService(flags, (svc) => svc.rotate(id, grace, 'cli'));
      print(
        flags,
        { id: rotated.view.id, key: rotated.key, previous_valid_until: rotated.previous_valid_until },
        `Rotated key ${rotated.view.id}; the old secret works until ${rotated.previous_valid_until ?? 'now (no grace)'}. New key (shown once):\n${rotated.key}\n`,
      );
    });
}

interface PolicyFlags {
  providers?: string[];
  models?: string[];
  dimsRequired?: boolean;
  dimsAllowed?: string[];
  rateLimits?: string;
}

function policyFromFlags(flags: PolicyFlags): Partial<KeyPolicy> {
  const policy: Partial<KeyPolicy> = {};
  if (flags.providers) policy.providers = flags.providers;
  if (flags.models) policy.models = flags.models;
  if (flags.dimsRequired) policy.dims_required = true;
  if (flags.dimsAllowed) policy.dims_allowed = flags.dimsAllowed;
  if (flags.rateLimits !== undefined) policy.rate_limits = parseRateLimits(flags.rateLimits);
  return policy;
}

/** The JSON of `--rate-limits`; its fields are checked by the auth service like the API's. */
function parseRateLimits(text: string): RateLimits | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error(`--rate-limits: not JSON: ${text}`);
  }
  if (value !== null && (typeof value !== 'object' || Array.isArray(value))) {
    throw new Error('--rate-limits: give a JSON object, e.g. {"requests_per_minute":60}, or null');
  }
  return value as RateLimits | null;
}

function table(views: KeyView[]): string {
  const rows = [['ID', 'NAME', 'TENANT', 'STATUS', 'CREATED', 'LAST USED']];
  for (const v of views) rows.push([v.id, v.name, v.tenant, v.status, v.created_at, v.last_used_at ?? '-']);
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
