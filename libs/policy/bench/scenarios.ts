// The requests the authorizer benchmark times, shared with a spec that checks each one is allowed (a bench
// that timed a denial by mistake would report a fast path nobody takes).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AuthorizationInput, KeyPolicy } from '@spendops/contracts';
import { KeyReplica } from '../src/key-replica';
import { PolicyAuthorizer } from '../src/policy-authorizer';
import { issueKey } from '../src/testing/key-records';

export interface BenchScenario {
  name: string;
  /** The presented X-ASO-API-Key. */
  key: string;
  input: AuthorizationInput;
  /** The model the authorizer must report. */
  model: string;
}

export interface BenchSetup {
  auth: PolicyAuthorizer;
  scenarios: BenchScenario[];
}

/** chat_2k.json beside the sources, whether this runs from libs/ (ts-jest) or from dist/ (node). */
export function chat2k(): Buffer {
  const candidates = [
    join(__dirname, '..', 'src', 'fixtures', 'chat_2k.json'),
    join(__dirname, '..', '..', '..', '..', 'libs', 'policy', 'src', 'fixtures', 'chat_2k.json'),
    join(process.cwd(), 'libs', 'policy', 'src', 'fixtures', 'chat_2k.json'),
  ];
  const found = candidates.find((p) => existsSync(p));
  if (found === undefined) throw new Error('chat_2k.json not found; run from the repository root');
  return readFileSync(found);
}

export function benchSetup(): BenchSetup {
  const secret = Buffer.alloc(32, 1);
  const body = chat2k();
  const base: AuthorizationInput = {
    provider: 'openai',
    dialect: 'openai-compatible',
    method: 'POST',
    endpoint: '/v1/chat/completions',
    content_type: 'application/json',
    body,
    dims_header: undefined,
  };
  const keys: Array<[string, Partial<KeyPolicy>, Partial<AuthorizationInput>]> = [
    ['typical key (providers *, models *, dims optional)', {}, {}],
    [
      'restrictive model list',
      {
        providers: ['openai', 'anthropic'],
        models: ['openai:gpt-4.1*', 'openai:gpt-4o-mini', 'anthropic:claude-sonnet-4*'],
      },
      {},
    ],
    [
      'restrictive list + required dims + default',
      {
        providers: ['openai', 'anthropic'],
        models: ['openai:gpt-4.1*', 'openai:gpt-4o-mini', 'anthropic:claude-sonnet-4*'],
        dims_required: true,
        dims_default: { 'cost-center': 'cc-1' },
      },
      { dims_header: 'team=search,app=product-search,env=prod' },
    ],
  ];
  const replica = new KeyReplica();
  const scenarios = keys.map(([name, policy, extra]) => {
    const { key, record } = issueKey(secret, { policy });
    replica.upsert(record);
    return { name, key, input: { ...base, ...extra }, model: 'gpt-4.1-mini' };
  });
  return { auth: new PolicyAuthorizer(replica, secret), scenarios };
}
