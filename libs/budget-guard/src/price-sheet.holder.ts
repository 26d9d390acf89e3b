// The current reservation price sheet of this proxy (null until pricing's first one arrives).
import type { PriceSheetV1 } from '@spendops/contracts';
import { PriceLookup } from './price-lookup';

export class PriceSheetHolder {
  private lookup: PriceLookup | null = null;

  get current(): PriceLookup | null {
    return this.lookup;
  }

  /** Installs a sheet unless it is the one held or older than it; true when installed. */
  install(sheet: PriceSheetV1): boolean {
    if (!sheet || typeof sheet !== 'object' || !sheet.providers || !Array.isArray(sheet.fallback))
      return false;
    const held = this.lookup?.sheet;
    if (held && held.version === sheet.version && held.generated_at >= sheet.generated_at) return false;
    if (held && held.generated_at > sheet.generated_at) return false;
    this.lookup = new PriceLookup(sheet);
    return true;
  }
}
