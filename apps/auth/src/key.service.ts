// Keys: create (the full key is returned once), list, get, revoke, activate, rotate with a grace period, update
// the policy, and the proxy's snapshot/resolve. Every change appends an audit row and publishes
// auth.key.changed.v1 after the transaction commits.
import type { KeyChangedV1, KeyPolicy, KeyRecord, KeyView } from '@spendops/contracts';
import { Topics } from '@spendops/contracts';
import type { MessageBus } from '@spendops/messaging';
import { definedFields, generateKey, hashKeyHex, validatePolicy, withDefaults } from '@spendops/policy';
import { KeyNotFoundError, KeyValidationError } from './key.errors';
import type { KeyRepository, StoredKey } from './key.repository';

export const DEFAULT_TENANT = 'default';

export interface KeyServiceOptions {
  serverSecret: Buffer;
  now?: () => Date;
}

type Change = KeyChangedV1['change'];

export class KeyService {
  private readonly now: () => Date;
  /** The newest version of each key announced on the bus by this process. */
  private readonly publishedVersions = new Map<string, number>();

  constructor(
    private readonly repo: KeyRepository,
    private readonly bus: MessageBus,
    private readonly options: KeyServiceOptions,
  ) {
    this.now = options.now ?? (() => new Date());
  }

  async create(input: { name: string; tenant?: string; policy?: Partial<KeyPolicy>; actor?: string }) {
    const policy = this.checkedPolicy(withDefaults(input.policy));
    const { id, key } = generateKey();
    const now = this.now().toISOString();
    const tenant = input.tenant || DEFAULT_TENANT;
    const saved = await this.repo.transaction(async (tx) => {
      const s = await this.repo.insert(tx, {
        id,
        name: input.name,
        tenant_id: tenant,
        status: 'active',
        secret_hash: hashKeyHex(this.options.serverSecret, key),
        previous_secret_hash: null,
        previous_valid_until: null,
        policy,
        created_at: now,
        updated_at: now,
        version: 1,
      });
      await this.repo.audit(tx, now, id, 'create', actorOf(input.actor), {
        name: input.name,
        tenant,
        policy,
      });
      return s;
    });
    await this.announce('created', saved.record);
    return { key, view: saved.view };
  }

  async list(tenant?: string): Promise<KeyView[]> {
    return (await this.repo.list(tenant)).map((s) => s.view);
  }

  async get(id: string): Promise<KeyView> {
    return (await this.mustGet(id)).view;
  }

  revoke(id: string, actor?: string): Promise<KeyView> {
    return this.setStatus(id, 'revoked', 'revoke', actor);
  }

  activate(id: string, actor?: string): Promise<KeyView> {
    return this.setStatus(id, 'active', 'activate', actor);
  }

  /** A new secret for the same id and policy; the previous one verifies for `graceSeconds` (0: not at all). */
  async rotate(id: string, graceSeconds = 0, actor?: string) {
    if (!Number.isInteger(graceSeconds) || graceSeconds < 0) {
      throw new KeyValidationError('grace_seconds: must be a whole number of seconds, 0 or more');
    }
    const { key } = generateKey(id);
    const at = this.now();
    const now = at.toISOString();
    const until = graceSeconds > 0 ? new Date(at.getTime() + graceSeconds * 1000).toISOString() : null;
    const saved = await this.change(id, 'rotated', async (tx, current) => {
      const s = await this.repo.update(
        tx,
        id,
        {
          secret_hash: hashKeyHex(this.options.serverSecret, key),
          previous_secret_hash: until ? current.secret_hash : null,
          previous_valid_until: until,
        },
        now,
      );
      await this.repo.audit(tx, now, id, 'rotate', actorOf(actor), { grace_seconds: graceSeconds });
      return s;
    });
    return { key, view: saved.view, previous_valid_until: until };
  }

  async updatePolicy(id: string, patch: Partial<KeyPolicy>, actor?: string): Promise<KeyView> {
    const now = this.now().toISOString();
    const saved = await this.change(id, 'policy_updated', async (tx, current) => {
      const policy = this.checkedPolicy({ ...current.policy, ...definedFields(patch) });
      const s = await this.repo.update(tx, id, { policy }, now);
      await this.repo.audit(tx, now, id, 'policy_change', actorOf(actor), {
        old: current.policy,
        new: policy,
      });
      return s;
    });
    return saved.view;
  }

  async snapshot(): Promise<KeyRecord[]> {
    return (await this.repo.list()).map((s) => s.record);
  }

  async resolve(id: string): Promise<KeyRecord | null> {
    return (await this.repo.get(id))?.record ?? null;
  }

  auditLog(id?: string) {
    return this.repo.auditLog(id);
  }

  private async setStatus(id: string, status: 'active' | 'revoked', action: string, actor?: string) {
    const now = this.now().toISOString();
    const saved = await this.change(id, status === 'revoked' ? 'revoked' : 'activated', async (tx) => {
      const s = await this.repo.update(tx, id, { status }, now);
      await this.repo.audit(tx, now, id, action, actorOf(actor), {});
      return s;
    });
    return saved.view;
  }

  private async change(
    id: string,
    change: Change,
    fn: (
      tx: Parameters<Parameters<KeyRepository['transaction']>[0]>[0],
      current: KeyRecord,
    ) => Promise<StoredKey>,
  ): Promise<StoredKey> {
    const saved = await this.repo.transaction(async (tx) => {
      const current = await this.repo.lock(tx, id);
      if (!current) throw new KeyNotFoundError(id);
      return fn(tx, current);
    });
    await this.announce(change, saved.record);
    return saved;
  }

  private async mustGet(id: string): Promise<StoredKey> {
    const s = await this.repo.get(id);
    if (!s) throw new KeyNotFoundError(id);
    return s;
  }

  private checkedPolicy(p: KeyPolicy): KeyPolicy {
    const problems = validatePolicy(p);
    if (problems.length > 0) throw new KeyValidationError('policy: ' + problems.join('; '));
    return p;
  }

  /** After the commit: a replica that missed it still resolves the key on its first request. */
  /** Publishes auth.key.changed.v1 for `key` (after its commit); the one path every announcement takes. */
  async announce(change: Change, key: KeyRecord): Promise<void> {
    const event: KeyChangedV1 = { change, key };
    await this.bus.publish(Topics.keyChanged, event, { messageId: `${key.id}:${key.version}` });
    if ((this.publishedVersions.get(key.id) ?? 0) < key.version)
      this.publishedVersions.set(key.id, key.version);
  }

  /** Whether this process already announced `version` (or a later one) of the key. */
  hasPublished(id: string, version: number): boolean {
    return (this.publishedVersions.get(id) ?? 0) >= version;
  }
}

function actorOf(actor: string | undefined): string {
  return actor && actor.trim() !== '' ? actor : 'unknown';
}
