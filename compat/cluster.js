#!/usr/bin/env node
// Runs SpendOps distributed for compat/run.sh: RabbitMQ and PostgreSQL started as real servers, one process of the
// built launcher per service (test/support/cluster.ts, built into dist/). Writes a JSON description (proxy and API
// URLs, admin token, the environment the CLI needs) to --out once everything answers, and tears it all down on
// SIGTERM/SIGINT.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const dist = path.join(__dirname, '..', 'dist');
require(path.join(dist, 'apps', 'cli', 'src', 'aliases'));
const { startCluster } = require(path.join(dist, 'test', 'support', 'cluster'));

async function main() {
  const out = process.argv[process.argv.indexOf('--out') + 1];
  const upstream = process.argv[process.argv.indexOf('--upstream') + 1];
  if (!out || !upstream) throw new Error('usage: cluster.js --upstream URL --out FILE');
  const cluster = await startCluster({
    SPENDOPS_UPSTREAM_OPENAI: upstream,
    SPENDOPS_UPSTREAM_ANTHROPIC: upstream,
    SPENDOPS_UPSTREAM_GOOGLE: upstream,
    SPENDOPS_LOG_LEVEL: process.env.SPENDOPS_LOG_LEVEL || 'warn',
  });
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await cluster.destroy().catch(() => undefined);
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  const env = {
    DATABASE_URL: cluster.env.DATABASE_URL,
    SPENDOPS_AMQP_URL: cluster.env.SPENDOPS_AMQP_URL,
    SPENDOPS_SERVER_SECRET: cluster.env.SPENDOPS_SERVER_SECRET,
  };
  const description = { proxy: cluster.proxyUrls()[0], api: cluster.apiUrl(), admin_token: cluster.adminToken, env };
  fs.writeFileSync(`${out}.tmp`, JSON.stringify(description));
  fs.renameSync(`${out}.tmp`, out);
  process.stderr.write(`compat cluster: proxy ${description.proxy}, api ${description.api}\n`);
}

main().catch((err) => {
  process.stderr.write(`compat cluster: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
