import { Command } from 'commander';
import { registerMockProviderCommand } from './mock-provider';

describe('spendops mock-provider', () => {
  it('registers the command with --addr, --gap-ms and --addr-file', () => {
    const program = new Command('spendops');
    registerMockProviderCommand(program);
    const cmd = program.commands.find((c) => c.name() === 'mock-provider')!;
    expect(cmd).toBeDefined();
    const flags = cmd.options.map((o) => o.long);
    expect(flags).toEqual(['--addr', '--gap-ms', '--addr-file']);
    expect(cmd.options[0].defaultValue).toBe('127.0.0.1:9090');
  });

  it('rejects an address without a port', async () => {
    const program = new Command('spendops').exitOverride();
    registerMockProviderCommand(program);
    await expect(
      program.parseAsync(['node', 'spendops', 'mock-provider', '--addr', 'localhost']),
    ).rejects.toThrow(/--addr: want HOST:PORT/);
  });
});
