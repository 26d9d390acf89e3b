// BudgetGuardModule.forRoot(): the proxy's budget enforcement (an AdmissionGuard). Needs MESSAGE_BUS from a
// global messaging module; the launcher registers BudgetGuard in ADMISSION_GUARDS.
import { randomBytes } from 'node:crypto';
import { type DynamicModule, Module } from '@nestjs/common';
import { BudgetGuard } from './budget.guard';
import { BUDGET_GUARD_OPTIONS, type BudgetGuardOptions, withDefaults } from './budget-guard.options';
import { BudgetGuardSync } from './budget-guard.sync';
import { BudgetReplica } from './budget-replica';
import { PriceSheetHolder } from './price-sheet.holder';
import { ProxyPeers } from './proxy-peers';

@Module({})
export class BudgetGuardModule {
  /** Exports BudgetGuard, BudgetReplica, PriceSheetHolder, ProxyPeers and BudgetGuardSync. */
  static forRoot(options: BudgetGuardOptions = {}): DynamicModule {
    const o = withDefaults(options);
    const proxyId = o.proxyId || `proxy-${randomBytes(6).toString('hex')}`;
    return {
      module: BudgetGuardModule,
      providers: [
        { provide: BUDGET_GUARD_OPTIONS, useValue: { ...o, proxyId } },
        {
          provide: BudgetReplica,
          useFactory: () => new BudgetReplica({ settleTimeoutMs: o.settleTimeoutMs }),
        },
        { provide: PriceSheetHolder, useFactory: () => new PriceSheetHolder() },
        { provide: ProxyPeers, useFactory: () => new ProxyPeers(proxyId) },
        BudgetGuard,
        BudgetGuardSync,
      ],
      exports: [BudgetGuard, BudgetReplica, PriceSheetHolder, ProxyPeers, BudgetGuardSync],
    };
  }
}
