// The proxy's in-memory copy of the keys: loaded from a snapshot, kept current by `auth.key.changed.v1`, and
// asked of the auth service once on a miss, so a key created a moment ago works on its first request.
import type { KeyChangedV1, KeyRecord } from '@spendops/contracts';

export type KeyResolver = (id: string) => Promise<KeyRecord | null>;

export interface KeyReplicaOptions {
  /** Asks the owner for one key (the proxy uses `Commands.keysResolve`). Without it a miss stays a miss. */
  resolve?: KeyResolver;
  /** The same id is asked again at most this often (default 1000 ms); a flood of one bad key costs one call. */
  missGapMs?: number;
  /** Resolve calls per second across all ids (default 20): a flood of random ids cannot flood the owner. */
  maxResolvesPerSecond?: number;
  now?: () => number;
}

/** A key with its hashes decoded once, so verifying costs one HMAC and a compare. */
export interface ReplicaEntry {
  record: KeyRecord;
  hash: Buffer;
  previousHash: Buffer | null;
  /** ms since epoch; 0 when there is no previous secret. */
  previousValidUntil: number;
}

function entryOf(record: KeyRecord): ReplicaEntry {
  const until = record.previous_valid_until ? Date.parse(record.previous_valid_until) : 0;
  return {
    record,
    hash: Buffer.from(record.secret_hash, 'hex'),
    previousHash: record.previous_secret_hash ? Buffer.from(record.previous_secret_hash, 'hex') : null,
    previousValidUntil: Number.isFinite(until) ? until : 0,
  };
}

export class KeyReplica {
  private readonly byId = new Map<string, ReplicaEntry>();
  private readonly inFlight = new Map<string, Promise<ReplicaEntry | undefined>>();
  private readonly lastAsked = new Map<string, number>();
  private readonly missGapMs: number;
  private readonly maxPerSecond: number;
  private readonly now: () => number;
  private windowStart = 0;
  private windowCount = 0;

  constructor(private readonly options: KeyReplicaOptions = {}) {
    this.missGapMs = options.missGapMs ?? 1000;
    this.maxPerSecond = options.maxResolvesPerSecond ?? 20;
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.byId.size;
  }

  /** Merges a snapshot: each record replaces the held one unless that is newer (an event may have overtaken it). */
  load(snapshot: readonly KeyRecord[]): void {
    for (const record of snapshot) this.upsert(record);
  }

  /** Applies a change event; an older version than the one held is ignored. Returns whether it was applied. */
  apply(change: KeyChangedV1): boolean {
    return this.upsert(change.key);
  }

  upsert(record: KeyRecord): boolean {
    const held = this.byId.get(record.id);
    if (held && held.record.version >= record.version) return false;
    this.byId.set(record.id, entryOf(record));
    return true;
  }

  get(id: string): ReplicaEntry | undefined {
    return this.byId.get(id);
  }

  /**
   * Asks the owner for `id` after a miss (unknown id, or a secret that does not verify: the key may have been
   * rotated a moment ago). Concurrent misses for one id share one call; calls are rate-limited per id and in
   * total. Resolves to the entry held afterwards.
   */
  refresh(id: string): Promise<ReplicaEntry | undefined> {
    const pending = this.inFlight.get(id);
    if (pending) return pending;
    const resolve = this.options.resolve;
    const now = this.now();
    const last = this.lastAsked.get(id);
    if (!resolve || (last !== undefined && now - last < this.missGapMs) || !this.takeToken(now)) {
      return Promise.resolve(this.byId.get(id));
    }
    this.lastAsked.set(id, now);
    if (this.lastAsked.size > 10_000) this.forgetOldMisses(now);
    const call = resolve(id)
      .then((record) => {
        if (record && record.id === id) this.upsert(record);
        return this.byId.get(id);
      })
      .catch(() => this.byId.get(id)) // the owner is away: answer from memory
      .finally(() => this.inFlight.delete(id));
    this.inFlight.set(id, call);
    return call;
  }

  private takeToken(now: number): boolean {
    if (now - this.windowStart >= 1000) {
      this.windowStart = now;
      this.windowCount = 0;
    }
    if (this.windowCount >= this.maxPerSecond) return false;
    this.windowCount++;
    return true;
  }

  private forgetOldMisses(now: number): void {
    for (const [id, at] of this.lastAsked) if (now - at >= this.missGapMs) this.lastAsked.delete(id);
  }
}
