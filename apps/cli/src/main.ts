import './aliases';
import 'reflect-metadata';
import { Command, CommanderError, Option } from 'commander';
import { runServe } from './commands/serve';
import { registerKeysCommands } from './commands/keys';
import { registerBudgetsCommands } from './commands/budgets';
import { registerPricingCommands } from './commands/pricing';
import { registerProjectionsCommands } from './commands/projections';
import { registerMockProviderCommand } from './commands/mock-provider';
import { spendopsVersion } from './version';

/** Exit status 0 on success, non-zero with a one-line error on stderr otherwise (interface.md). */
function fail(err: unknown): never {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`spendops: ${message.split('\n')[0]}\n`);
  process.exit(err instanceof CommanderError ? err.exitCode || 2 : 1);
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

async function main(argv: string[]): Promise<void> {
  const program = new Command('spendops')
    .description('Self-hosted AI API spend proxy')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s), outputError: () => undefined });

  program
    .command('serve')
    .description('Run the services (all in one process by default)')
    .addOption(new Option('--addr <host:port>', 'listen address (default 127.0.0.1:8080)'))
    .addOption(new Option('--data-dir <dir>', 'data directory (default ./spendops-data)'))
    .addOption(new Option('--config <file>', 'YAML config file'))
    .addOption(
      new Option('--upstream <name=url>', 'provider base URL override (repeatable)').argParser(collect),
    )
    .addOption(new Option('--services <list>', 'proxy,auth,extraction,pricing,ledger,api (default: all)'))
    .addOption(
      new Option(
        '--pipeline-thread <bool>',
        'all-in-one: run extraction, pricing and ledger on a worker thread (default true)',
      ),
    )
    .action(async (flags) => runServe(flags));

  registerKeysCommands(program);
  registerPricingCommands(program);
  registerBudgetsCommands(program);
  registerProjectionsCommands(program);
  registerMockProviderCommand(program);

  program
    .command('version')
    .description('Print the version')
    .action(() => {
      process.stdout.write(`spendops ${spendopsVersion()}\n`);
    });

  await program.parseAsync(argv);
}

main(process.argv).catch((err: unknown) => {
  if (
    err instanceof CommanderError &&
    (err.code === 'commander.helpDisplayed' || err.code === 'commander.version')
  ) {
    process.exit(0);
  }
  fail(err);
});
