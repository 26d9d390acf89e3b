// Where tenant overrides live. Every add or delete makes a new override-set version; deleted overrides stay
// stored for history but leave the active set.
import type { PricingOverrideAddRequest } from '@spendops/contracts';
import type { PriceOverride } from '../engine/overrides';

export interface StoredOverrides {
  version: number;
  items: PriceOverride[];
}

export interface OverrideStore {
  /** The active overrides and the set's version (0 = never changed). */
  load(): Promise<StoredOverrides>;
  /** Stores a validated override; resolves to the new set. */
  add(o: PricingOverrideAddRequest): Promise<StoredOverrides>;
  /** Deletes by id; resolves to the new set, or null when no active override has that id. */
  remove(id: number): Promise<StoredOverrides | null>;
}

/** Nest injection token of the pricing service's OverrideStore. */
export const OVERRIDE_STORE = Symbol('PRICING_OVERRIDE_STORE');

/** Overrides in process memory (tests, and runs without a database). */
export class InMemoryOverrideStore implements OverrideStore {
  private version = 0;
  private nextId = 1;
  private items: PriceOverride[] = [];

  async load(): Promise<StoredOverrides> {
    return { version: this.version, items: this.items.map((o) => structuredClone(o)) };
  }

  async add(o: PricingOverrideAddRequest): Promise<StoredOverrides> {
    this.items.push({ ...structuredClone(o), id: this.nextId++, created_at: new Date().toISOString() });
    this.version++;
    return this.load();
  }

  async remove(id: number): Promise<StoredOverrides | null> {
    const before = this.items.length;
    this.items = this.items.filter((o) => o.id !== id);
    if (this.items.length === before) return null;
    this.version++;
    return this.load();
  }
}
