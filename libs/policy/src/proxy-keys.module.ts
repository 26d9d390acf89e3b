// The proxy side of keys: a replica loaded from the auth service's snapshot, kept current by key-change events
// (every proxy instance receives every change), resolving misses over the bus, behind REQUEST_AUTHORIZER.
import {
  type DynamicModule,
  Inject,
  Injectable,
  Logger,
  Module,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import {
  Commands,
  type KeyChangedV1,
  type KeysResolveReply,
  type KeysResolveRequest,
  type KeysSnapshotReply,
  REQUEST_AUTHORIZER,
  Topics,
} from '@spendops/contracts';
import { MESSAGE_BUS, type MessageBus } from '@spendops/messaging';
import { serverSecretFromHex } from './key-format';
import { KeyReplica } from './key-replica';
import { PolicyAuthorizer } from './policy-authorizer';

export interface ProxyKeysOptions {
  /** The server secret keys are hashed under (hex, at least 32 bytes), the same the auth service uses. */
  serverSecret: string | Buffer;
  /** Timeout of the snapshot and resolve requests (default 2000 ms). */
  requestTimeoutMs?: number;
  /** Delay between snapshot attempts while the auth service is not reachable (default 1000 ms). */
  snapshotRetryMs?: number;
  missGapMs?: number;
  maxResolvesPerSecond?: number;
}

export const PROXY_KEYS_OPTIONS = Symbol('PROXY_KEYS_OPTIONS');
/** Queue name of the key-change subscription (broadcast: one exclusive copy per process). */
export const PROXY_KEYS_QUEUE = 'proxy.keys';

/** Subscribes to key changes, then loads the snapshot (so no change between the two is lost). */
@Injectable()
export class ProxyKeysSync implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('ProxyKeys');
  private retry: NodeJS.Timeout | null = null;
  private loaded = false;

  constructor(
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    private readonly replica: KeyReplica,
    @Inject(PROXY_KEYS_OPTIONS) private readonly options: ProxyKeysOptions,
  ) {}

  /** Whether the snapshot has been loaded (readiness). */
  get ready(): boolean {
    return this.loaded;
  }

  async onModuleInit(): Promise<void> {
    await this.bus.subscribe<KeyChangedV1>(
      PROXY_KEYS_QUEUE,
      [Topics.keyChanged],
      async (change) => {
        this.replica.apply(change);
      },
      { broadcast: true },
    );
    await this.loadSnapshot();
  }

  onModuleDestroy(): void {
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
  }

  private async loadSnapshot(): Promise<void> {
    try {
      const reply = await this.bus.request<Record<string, never>, KeysSnapshotReply>(
        Commands.keysSnapshot,
        {},
        { timeoutMs: this.options.requestTimeoutMs ?? 2000 },
      );
      this.replica.load(reply.keys);
      this.loaded = true;
      this.logger.log(`loaded ${reply.keys.length} keys`);
    } catch (e) {
      // The auth service may start after the proxy: keep serving (misses are resolved one by one) and retry.
      this.logger.warn(`key snapshot: ${(e as Error).message}; retrying`);
      this.retry = setTimeout(() => void this.loadSnapshot(), this.options.snapshotRetryMs ?? 1000);
      this.retry.unref();
    }
  }
}

@Module({})
export class ProxyKeysModule {
  /** Needs MESSAGE_BUS from a global messaging module. Exports REQUEST_AUTHORIZER, KeyReplica and ProxyKeysSync. */
  static forRoot(options: ProxyKeysOptions): DynamicModule {
    return {
      module: ProxyKeysModule,
      providers: [
        { provide: PROXY_KEYS_OPTIONS, useValue: options },
        {
          provide: KeyReplica,
          inject: [MESSAGE_BUS, PROXY_KEYS_OPTIONS],
          useFactory: (bus: MessageBus, o: ProxyKeysOptions) =>
            new KeyReplica({
              missGapMs: o.missGapMs,
              maxResolvesPerSecond: o.maxResolvesPerSecond,
              resolve: async (id) =>
                (
                  await bus.request<KeysResolveRequest, KeysResolveReply>(
                    Commands.keysResolve,
                    { id },
                    { timeoutMs: o.requestTimeoutMs ?? 2000 },
                  )
                ).key,
            }),
        },
        {
          provide: REQUEST_AUTHORIZER,
          inject: [KeyReplica, PROXY_KEYS_OPTIONS],
          useFactory: (replica: KeyReplica, o: ProxyKeysOptions) =>
            new PolicyAuthorizer(
              replica,
              Buffer.isBuffer(o.serverSecret) ? o.serverSecret : serverSecretFromHex(o.serverSecret),
            ),
        },
        ProxyKeysSync,
      ],
      exports: [REQUEST_AUTHORIZER, KeyReplica, ProxyKeysSync],
    };
  }
}
