#!/usr/bin/env node
// Starts the breakable proxy (libs/testing/src/scripted-upstream/broken-proxy.ts, from dist/) in front of
// SpendOps for `compat/run.sh --broken MODE`.
//   node compat/broken-proxy.js --mode MODE --target http://127.0.0.1:PORT [--addr-file FILE]
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const lib = require(path.join(__dirname, '..', 'dist', 'libs', 'testing', 'src', 'scripted-upstream', 'broken-proxy'));

const args = process.argv.slice(2);
const flag = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const mode = flag('--mode') || 'none';
const target = flag('--target');
if (!lib.isBrokenProxyMode(mode) || !target) {
  process.stderr.write(`usage: broken-proxy.js --mode {${Object.keys(lib.BROKEN_PROXY_MODES).join('|')}} --target URL\n`);
  process.exit(2);
}
lib.startBrokenProxy({ mode, target }).then((proxy) => {
  const addrFile = flag('--addr-file');
  if (addrFile) fs.writeFileSync(addrFile, proxy.url.replace(/^http:\/\//, ''));
  process.stdout.write(`broken proxy (${mode}: ${lib.BROKEN_PROXY_MODES[mode]}) on ${proxy.url} -> ${target}\n`);
  const stop = () => proxy.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
});
