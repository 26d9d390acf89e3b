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

export class PolicyAuthorizer implements RequestAuthorizer {
  constructor(
    private readonly replica: KeyReplica,
    private readonly serverSecret: Buffer,
    private readonly now: () => number = Date.now,
  ) {}

  async authenticate(apiKeyHeader: string | undefined): Promise<AuthenticationResult> {
    if (apiKeyHeader === undefined || apiKeyHeader === '') return MISSING;
    // A repeated header reaches us joined with ", " and fails the format check: 403, as in the reference.
    const id = parseKeyId(apiKeyHeader);
    if (id === null) return INVALID;
    const hash = hashKey(this.serverSecret, apiKeyHeader);
    let entry = this.replica.get(id);
    if (!entry || !this.verifies(entry, hash)) {
      entry = await this.replica.refresh(id);
      if (!entry || !this.verifies(entry, hash)) return INVALID;
    }
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

  private verifies(entry: ReplicaEntry, hash: Buffer): boolean {
    if (hashesEqual(hash, entry.hash)) return true;
    return (
      entry.previousHash !== null &&
      this.now() < entry.previousValidUntil &&
      hashesEqual(hash, entry.previousHash)
    );
  }

  private inactive(): { ok: false; status: 403; type: 'inactive_key'; message: string } {
    return { ok: false, status: 403, type: 'inactive_key', message: MSG_INACTIVE_KEY };
  }
}
