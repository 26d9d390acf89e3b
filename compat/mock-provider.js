#!/usr/bin/env node
// Runs `spendops mock-provider` from the build (dist/) for compat/run.sh, whether or not the CLI entry point
// registers the command yet.
'use strict';
const path = require('node:path');
const dist = path.join(__dirname, '..', 'dist', 'apps', 'cli', 'src');
require(path.join(dist, 'aliases'));
const { Command } = require('commander');
const { registerMockProviderCommand } = require(path.join(dist, 'commands', 'mock-provider'));

const program = new Command('spendops');
registerMockProviderCommand(program);
program.parseAsync(['node', 'spendops', 'mock-provider', ...process.argv.slice(2)]).catch((err) => {
  process.stderr.write(`mock-provider: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
