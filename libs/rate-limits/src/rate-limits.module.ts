// The proxy's rate limits: the limiter, its admission guard and its bus feed. Needs MESSAGE_BUS from a global
// messaging module; uses the key replica (KeyReplica) when a global module provides it.
import { type DynamicModule, Module } from '@nestjs/common';
import { RateLimitGuard } from './rate-limit.guard';
import { RATE_LIMITS_OPTIONS, RateLimitSync, type RateLimitsOptions } from './rate-limit-sync';
import { RateLimiter } from './rate-limiter';

@Module({})
export class RateLimitsModule {
  static forRoot(options: RateLimitsOptions = {}): DynamicModule {
    return {
      module: RateLimitsModule,
      providers: [
        { provide: RATE_LIMITS_OPTIONS, useValue: options },
        { provide: RateLimiter, useFactory: () => new RateLimiter({ peerTtlMs: options.peerTtlMs }) },
        RateLimitGuard,
        RateLimitSync,
      ],
      exports: [RateLimitGuard, RateLimiter, RateLimitSync],
    };
  }
}
