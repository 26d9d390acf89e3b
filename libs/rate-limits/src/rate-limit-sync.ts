// Feeds the rate limiter from the bus: every recorded usage event (tokens and cost, broadcast so every proxy sees
// every event) and the other proxies' request counts; and tells them this proxy's counts every sync interval.
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
  type OnModuleInit,
  Optional,
} from '@nestjs/common';
import { Topics, type UsageEventView } from '@spendops/contracts';
import { MESSAGE_BUS, type MessageBus } from '@spendops/messaging';
import { KeyReplica } from '@spendops/policy';
import { type CompiledLimits, compileRateLimits } from './compiled-limits';
import { RateLimiter } from './rate-limiter';
import { RATE_LIMIT_SYNC_TOPIC, type RateLimitSyncV1 } from './sync-message';

export interface RateLimitsOptions {
  /** How often this proxy reports the requests it admitted (default 100 ms). */
  syncIntervalMs?: number;
  /** A report is sent at least this often, empty if need be, so peers know this proxy is live (default 1000 ms). */
  heartbeatMs?: number;
  /** A peer silent for this long no longer shares the limits (default 3000 ms). */
  peerTtlMs?: number;
}

export const RATE_LIMITS_OPTIONS = Symbol('RATE_LIMITS_OPTIONS');
/** Queue names of the two broadcast subscriptions (one exclusive copy per process). */
export const RATE_LIMITS_USAGE_QUEUE = 'proxy.rate-limits.usage';
export const RATE_LIMITS_SYNC_QUEUE = 'proxy.rate-limits.sync';
const SWEEP_EVERY_MS = 30_000;

@Injectable()
export class RateLimitSync implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('RateLimits');
  private timer: NodeJS.Timeout | null = null;
  private lastSentAt = 0;
  private lastSweepAt = 0;
  private publishing = false;

  constructor(
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    @Inject(RateLimiter) private readonly limiter: RateLimiter,
    @Inject(RATE_LIMITS_OPTIONS) private readonly options: RateLimitsOptions,
    @Optional() @Inject(KeyReplica) private readonly keys?: KeyReplica,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.bus.subscribe<UsageEventView>(
      RATE_LIMITS_USAGE_QUEUE,
      [Topics.usageRecorded],
      async (event) => this.limiter.recordUsage(event, this.limitsOf(event.api_key_id)),
      { broadcast: true },
    );
    await this.bus.subscribe<RateLimitSyncV1>(
      RATE_LIMITS_SYNC_QUEUE,
      [RATE_LIMIT_SYNC_TOPIC],
      async (message) => this.limiter.applySync(message),
      { broadcast: true },
    );
    this.timer = setInterval(() => this.tick(), this.options.syncIntervalMs ?? 100);
    this.timer.unref();
    this.tick(); // a first heartbeat at once: the peers answer with what they have counted in this window
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** One sync round: report what was admitted (or a heartbeat), and now and then forget idle counters. */
  tick(): void {
    const now = Date.now();
    const heartbeat = now - this.lastSentAt >= (this.options.heartbeatMs ?? 1000);
    if (now - this.lastSweepAt >= SWEEP_EVERY_MS) {
      this.lastSweepAt = now;
      this.limiter.sweep();
    }
    for (const welcome of this.limiter.takeJoinerViews()) {
      this.bus
        .publish(RATE_LIMIT_SYNC_TOPIC, welcome)
        .catch((e: unknown) => this.logger.warn(`sync publish failed: ${(e as Error).message}`));
    }
    if (this.publishing) return; // the bus is slow: this round's counts go with the next one
    const message = this.limiter.takeSyncMessage(heartbeat);
    if (!message) return;
    this.lastSentAt = now;
    this.publishing = true;
    this.bus
      .publish(RATE_LIMIT_SYNC_TOPIC, message)
      .catch((e: unknown) => {
        this.limiter.requeue(message); // the peers have not heard of these yet
        this.logger.warn(`sync publish failed: ${(e as Error).message}`);
      })
      .finally(() => {
        this.publishing = false;
      });
  }

  /** The key's limits from the key replica (which knows keys this proxy has not served yet), else as last seen. */
  private limitsOf(keyId: string): CompiledLimits | null {
    const entry = this.keys?.get(keyId);
    return entry ? compileRateLimits(entry.record.policy.rate_limits) : this.limiter.limitsSeen(keyId);
  }
}
