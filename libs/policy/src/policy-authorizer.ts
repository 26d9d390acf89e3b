// The proxy's RequestAuthorizer: keys verified from the in-memory replica, policies evaluated in the reference's
// order. The proxy checks the route first, then calls authenticate, reads the body, then authorize.
import type {
  AuthenticationResult,
  AuthorizationInput,
  AuthorizationResult,
  KeyRecord,
  RequestAuthorizer,
} from '@spendops/contracts';
import { evaluate } from './evaluate';
import { hashKey, hashesEqual, parseKeyId } from './key-format';
import type { KeyReplica, ReplicaEntry } from './key-replica';
import { modelsRestricted } from './providers';

export const MSG_MISSING_KEY = 'Missing X-ASO-API-Key';
export const MSG_INVALID_KEY = 'Invalid X-ASO-API-Key';
export const MSG_INACTIVE_KEY = 'API key is inactive';

const MISSING: AuthenticationResult = {
  ok: false,
  status: 401,
  type: 'missing_key',
  message: MSG_MISSING_KEY,
};
const INVALID: AuthenticationResult = {
  ok: false,
  status: 403,
  type: 'invalid_key',
  message: MSG_INVALID_KEY,
};

/** How many verified keys are remembered by default (least recently used first out). */
export const DEFAULT_VERIFIED_KEYS_CACHED = 10_000;

/** A presented key that verified against `entry` (via the previous secret when `previous`). */
interface Verified {
  id: string;
  entry: ReplicaEntry;
  previous: boolean;
}

export class PolicyAuthorizer implements RequestAuthorizer {
  /**
   * Presented key → the replica entry it verified against, in least-recently-used order. A hit stands only
   * while the replica still holds that very entry (any change to the key replaces it) and, for a previous
   * secret, while its grace lasts; failures are never remembered, so a flood of bad keys evicts nothing.
   */
  private readonly verified = new Map<string, Verified>();

  constructor(
    private readonly replica: KeyReplica,
    private readonly serverSecret: Buffer,
    private readonly now: () => number = Date.now,
    private readonly maxVerified: number = DEFAULT_VERIFIED_KEYS_CACHED,
  ) {}

  async authenticate(apiKeyHeader: string | undefined): Promise<AuthenticationResult> {
    if (apiKeyHeader === undefined || apiKeyHeader === '') return MISSING;
    const hit = this.verified.get(apiKeyHeader);
    if (hit !== undefined) {
      if (
        this.replica.get(hit.id) === hit.entry &&
        (!hit.previous || this.now() < hit.entry.previousValidUntil)
      ) {
        this.verified.delete(apiKeyHeader); // move to the most recently used end
        this.verified.set(apiKeyHeader, hit);
        return this.resultFor(hit.entry);
      }
      this.verified.delete(apiKeyHeader);
    }
    // A repeated header reaches us joined with ", " and fails the format check: 403, as in the reference.
    const id = parseKeyId(apiKeyHeader);
    if (id === null) return INVALID;
    const hash = hashKey(this.serverSecret, apiKeyHeader);
    let entry = this.replica.get(id);
    let how = entry && this.verifies(entry, hash);
    if (!entry || !how) {
      entry = await this.replica.refresh(id);
      how = entry && this.verifies(entry, hash);
      if (!entry || !how) return INVALID;
    }
    this.remember(apiKeyHeader, { id, entry, previous: how === 'previous' });
    return this.resultFor(entry);
  }

  private remember(presented: string, v: Verified): void {
    if (this.maxVerified <= 0) return;
    this.verified.delete(presented);
    if (this.verified.size >= this.maxVerified) {
      const oldest = this.verified.keys().next();
      if (!oldest.done) this.verified.delete(oldest.value);
    }
    this.verified.set(presented, v);
  }

  private resultFor(entry: ReplicaEntry): AuthenticationResult {
    const key = entry.record;
    if (key.status !== 'active') {
      return { ...this.inactive(), key_id: key.id, tenant_id: key.tenant_id };
    }
    return { ok: true, key };
  }

  needsBody(key: KeyRecord, provider?: string): boolean {
    return modelsRestricted(key.policy.models ?? [], provider);
  }

  authorize(key: KeyRecord, input: AuthorizationInput): AuthorizationResult {
    const dec = evaluate(key.policy, {
      provider: input.provider,
      dialect: input.dialect,
      method: input.method,
      path: input.endpoint,
      query: input.query,
      contentType: input.content_type,
      contentTypeRepeated: input.content_type_repeated,
      contentEncoding: input.content_encoding,
      body: input.body,
      bodyTruncated: input.body_truncated,
      maxDecodedBytes: input.max_decoded_bytes,
      dims:
        input.dims_header === undefined
          ? []
          : input.dims_header_repeated
            ? [input.dims_header, '']
            : [input.dims_header],
    });
    if (dec.denial) return { ok: false, ...dec.denial, dims: dec.dims };
    return { ok: true, dims: dec.dims, model: dec.model };
  }

  /** Which of the entry's secrets the hash matches, or false. */
  private verifies(entry: ReplicaEntry, hash: Buffer): 'current' | 'previous' | false {
    if (hashesEqual(hash, entry.hash)) return 'current';
    return entry.previousHash !== null &&
      this.now() < entry.previousValidUntil &&
      hashesEqual(hash, entry.previousHash)
      ? 'previous'
      : false;
  }

  private inactive(): { ok: false; status: 403; type: 'inactive_key'; message: string } {
    return { ok: false, status: 403, type: 'inactive_key', message: MSG_INACTIVE_KEY };
  }
}
