// Key and policy shapes shared by auth (owner), the proxy (replica) and the admin API.

export interface KeyPolicy {
  /** Provider allow-list; `['*']` = all. */
  providers: string[];
  /** Model allow-list: `*`, `provider:exact`, `provider:prefix*`. */
  models: string[];
  dims_required: boolean;
  dims_allowed: string[];
  max_dims: number;
  max_key_len: number;
  max_value_len: number;
  /** Always recorded; a caller sending another value is rejected. */
  dims_pinned: Record<string, string>;
  /** Recorded when the caller sends none for that key. */
  dims_default: Record<string, string>;
}

export type KeyStatus = 'active' | 'revoked';

/** A key as the proxy's replica holds it: never the secret, only its HMAC. */
export interface KeyRecord {
  id: string;
  name: string;
  tenant_id: string;
  status: KeyStatus;
  /** hex HMAC-SHA-256 of the full key under the server secret. */
  secret_hash: string;
  /** During a rotation's grace period the previous secret's hash also verifies, until this time. */
  previous_secret_hash: string | null;
  previous_valid_until: string | null;
  policy: KeyPolicy;
  created_at: string;
  updated_at: string;
  /** Monotonic per key; a replica ignores an older version than it holds. */
  version: number;
}

/** `auth.key.changed.v1` */
export interface KeyChangedV1 {
  key: KeyRecord;
  change: 'created' | 'revoked' | 'activated' | 'rotated' | 'policy_updated';
}

/** The public view of a key (admin API, CLI `keys list --json`). */
export interface KeyView {
  id: string;
  name: string;
  tenant: string;
  status: KeyStatus;
  policy: KeyPolicy;
  created_at: string;
  updated_at: string;
  last_used_at: string | null;
}
