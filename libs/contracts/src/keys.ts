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
  /** Rate limits of the key (docs/rate-limits.md); absent, null or `{}`: none. */
  rate_limits?: RateLimits | null;
}

/** One set of limits; each is optional (absent: not limited). */
export interface RateLimitValues {
  /** Requests admitted per minute (positive integer). */
  requests_per_minute?: number;
  /** Total tokens (prompt + completion) per minute (positive integer), counted from recorded usage. */
  tokens_per_minute?: number;
  /** Cost per hour, a positive decimal USD string (at most 6 decimals), counted from recorded usage. */
  usd_per_hour?: string;
}

/** A key's rate limits: for the whole key, and per dimension key (each VALUE of that dimension has its own counters). */
export interface RateLimits extends RateLimitValues {
  per_dimension?: Record<string, RateLimitValues>;
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

// Request/reply shapes of the key commands (Commands.keys*), served by the auth service. Added by the auth helper.
/** Who made a change (recorded in the key audit log); `unknown` when absent. */
export interface KeyActor {
  actor?: string;
}
/** `auth.keys.create` → KeyCreatedReply. Missing policy fields take the documented defaults. */
export interface KeysCreateRequest extends KeyActor {
  name: string;
  tenant?: string;
  policy?: Partial<KeyPolicy>;
}
/** The full key is returned once, here, and never again. */
export interface KeyCreatedReply {
  key: string;
  view: KeyView;
}
/** `auth.keys.list` → KeysListReply (oldest first). */
export interface KeysListRequest {
  tenant?: string;
}
export interface KeysListReply {
  keys: KeyView[];
}
/** `auth.keys.get`, `auth.keys.revoke`, `auth.keys.activate` → KeyReply. */
export interface KeyIdRequest extends KeyActor {
  id: string;
}
export interface KeyReply {
  key: KeyView;
}
/** `auth.keys.rotate` → KeyRotatedReply: the previous secret verifies for `grace_seconds` (0: stops at once). */
export interface KeysRotateRequest extends KeyActor {
  id: string;
  grace_seconds?: number;
}
export interface KeyRotatedReply {
  key: string;
  view: KeyView;
  previous_valid_until: string | null;
}
/** `auth.keys.update-policy` → KeyReply. The given fields replace the stored ones. */
export interface KeysUpdatePolicyRequest extends KeyActor {
  id: string;
  policy: Partial<KeyPolicy>;
}
/** `auth.keys.snapshot` (request `{}`) → every key as the proxy's replica holds it. */
export interface KeysSnapshotReply {
  keys: KeyRecord[];
}
/** `auth.keys.resolve` → one key for a replica's miss (`null` when unknown). */
export interface KeysResolveRequest {
  id: string;
}
export interface KeysResolveReply {
  key: KeyRecord | null;
}
/** `auth.audit.list` → KeysAuditReply: the key audit log (oldest first), of one key when `key_id` is given. */
export interface KeysAuditRequest {
  key_id?: string;
}
export interface KeyAuditEntry {
  seq: number;
  ts: string;
  key_id: string;
  action: string;
  actor: string;
  detail: Record<string, unknown>;
}
export interface KeysAuditReply {
  audit: KeyAuditEntry[];
}
/** Error names a key command can reject with (RemoteCommandError.remoteName). */
export const KeyErrors = {
  notFound: 'KeyNotFoundError',
  invalid: 'KeyValidationError',
} as const;

/**
 * PostgreSQL NOTIFY channel for key changes written outside the auth service (the CLI on the same database):
 * payload `{"id": "...", "change": "..."}`. The auth service relays each as `auth.key.changed.v1`.
 */
export const KEY_CHANGED_PG_CHANNEL = 'spendops_key_changed';
