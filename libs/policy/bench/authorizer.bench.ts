// Micro-benchmark (not a test): per-request cost of authenticate + authorize for a typical 2 KB chat body with a
// restrictive model list, required dimensions and a default (the reference's BenchmarkEvaluate). Target < 5 µs.
// Run: npx tsc -p tsconfig.build.json && node dist/libs/policy/bench/authorizer.bench.js
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KeyReplica } from '../src/key-replica';
import { PolicyAuthorizer } from '../src/policy-authorizer';
import { issueKey } from '../src/testing/key-records';
import { parseDims } from '../src/dims';
import { withDefaults } from '../src/policy-defaults';

// Run from the repository root.
const body = readFileSync(join(process.cwd(), 'libs', 'policy', 'src', 'fixtures', 'chat_2k.json'));
const secret = Buffer.alloc(32, 1);

function measure(name: string, iterations: number, fn: () => unknown): void {
  for (let i = 0; i < iterations / 10; i++) fn(); // warm up the JIT
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) fn();
  const ns = Number(process.hrtime.bigint() - start) / iterations;
  console.log(`${name.padEnd(44)} ${(ns / 1000).toFixed(2).padStart(7)} µs/op`);
}

async function main(): Promise<void> {
  const restricted = issueKey(secret, {
    policy: {
      providers: ['openai', 'anthropic'],
      models: ['openai:gpt-4.1*', 'openai:gpt-4o-mini', 'anthropic:claude-sonnet-4*'],
      dims_required: true,
      dims_default: { 'cost-center': 'cc-1' },
    },
  });
  const open = issueKey(secret);
  const replica = new KeyReplica();
  replica.load([restricted.record, open.record]);
  const auth = new PolicyAuthorizer(replica, secret);
  const input = {
    provider: 'openai',
    dialect: 'openai-compatible' as const,
    method: 'POST',
    endpoint: '/v1/chat/completions',
    content_type: 'application/json',
    body,
    dims_header: 'team=search,app=product-search,env=prod',
  };
  const check = auth.authorize(restricted.record, input);
  if (!check.ok) throw new Error(check.message);

  const n = 200_000;
  // authenticate is async (a miss may ask the auth service); time the awaited call too.
  for (let i = 0; i < n / 10; i++) await auth.authenticate(restricted.key);
  let start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await auth.authenticate(restricted.key);
  const authNs = Number(process.hrtime.bigint() - start) / n;
  console.log(`${'authenticate (HMAC + compare, awaited)'.padEnd(44)} ${(authNs / 1000).toFixed(2).padStart(7)} µs/op`);

  measure('authorize, restrictive list, 2 KB body', n, () => auth.authorize(restricted.record, input));
  measure('authorize, unrestricted key, 2 KB body', n, () => auth.authorize(open.record, input));
  const dimsPolicy = withDefaults({});
  measure('parseDims JSON form', n, () => parseDims(['{"team":"search","app":"product-search","env":"prod"}'], dimsPolicy));

  start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const a = await auth.authenticate(restricted.key);
    if (a.ok) auth.authorize(a.key, input);
  }
  const totalNs = Number(process.hrtime.bigint() - start) / n;
  console.log(`${'authenticate + authorize (per request)'.padEnd(44)} ${(totalNs / 1000).toFixed(2).padStart(7)} µs/op  (target < 5 µs)`);
}

void main();
