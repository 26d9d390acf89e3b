// Builds KeyRecords the way the auth service stores them, for tests and the benchmark.
import type { KeyPolicy, KeyRecord } from '@spendops/contracts';
import { generateKey, hashKeyHex } from '../key-format';
import { withDefaults } from '../policy-defaults';

export interface IssuedKey {
  key: string;
  record: KeyRecord;
}

export function issueKey(
  serverSecret: Buffer,
  overrides: Partial<Omit<KeyRecord, 'policy'>> & { policy?: Partial<KeyPolicy> } = {},
): IssuedKey {
  const { id, key } = generateKey(overrides.id);
  const now = new Date().toISOString();
  const record: KeyRecord = {
    id,
    name: 'test key',
    tenant_id: 'default',
    status: 'active',
    secret_hash: hashKeyHex(serverSecret, key),
    previous_secret_hash: null,
    previous_valid_until: null,
    created_at: now,
    updated_at: now,
    version: 1,
    ...overrides,
    policy: withDefaults(overrides.policy),
  };
  return { key, record };
}
