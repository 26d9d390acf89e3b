// Composes the apps' root modules into one process: all of them (all-in-one) or the subset `--services` names.
// The launcher is the one place allowed to import apps; apps only meet through the bus and the database.
// All-in-one, the pipeline services (pipeline-modules.ts) run on a worker thread unless `--pipeline-thread=false`:
// this module then composes the main thread (proxy, auth, api) and PipelineMessagingModule starts the worker.
import {
  DynamicModule,
  Inject,
  Injectable,
  Module,
  OnApplicationBootstrap,
  Provider,
  Type,
} from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { JsonLogger, OpsModule, ReadinessRegistry } from '@spendops/observability';
import { SpendOpsConfig } from '@spendops/config';
import { USAGE_READ_MODEL } from '@spendops/contracts';
import { MESSAGE_BUS, MessagingModule, type MessageBus } from '@spendops/messaging';
import { join } from 'node:path';
import { MigrationClass, PersistenceModule } from '@spendops/persistence';
import { ProxyKeysModule } from '@spendops/policy';
import { DataSource } from 'typeorm';
import { API_MIGRATIONS, ApiModule } from '../../../api/src';
import { AUTH_MIGRATIONS, AuthModule } from '../../../auth/src';
import { LEDGER_MIGRATIONS, LedgerQueries } from '../../../ledger/src';
import { PRICING_MIGRATIONS } from '../../../pricing/src';
import { ProxyHandler, ProxyModule } from '../../../proxy/src';
import { AdmissionGuardsModule } from './admission-guards';
import { ConfigBudgetsModule } from './config-budgets';
import { RequestDispatcher } from './http-server';
import { PipelineMessagingModule } from './pipeline-messaging.module';
import { pipelineModules, pipelineSettings } from './pipeline-modules';

const log = new JsonLogger('serve');
const SERVE_OPTIONS = Symbol('SERVE_OPTIONS');

interface ServeOptions {
  config: SpendOpsConfig;
  dispatcher: RequestDispatcher;
  serverSecret: string;
  announceAdminToken: (token: string) => void;
  /** Services run on the pipeline worker thread instead of this one (empty: one thread). */
  pipelineThreadServices?: string[];
}

/** Mounts the proxy's raw handler on the shared HTTP server (the launcher drains it before closing the app). */
@Injectable()
class ProxyMount implements OnApplicationBootstrap {
  constructor(
    private readonly moduleRef: ModuleRef,
    @Inject(SERVE_OPTIONS) private readonly options: ServeOptions,
  ) {}

  onApplicationBootstrap(): void {
    const handler = this.moduleRef.get(ProxyHandler, { strict: false });
    this.options.dispatcher.setProxy(
      (req, res) => handler.handle(req, res),
      (req, socket, head) => handler.handleUpgrade(req, socket, head),
    );
  }
}

/** `/readyz` reflects the database and the bus of this process. */
@Injectable()
class ReadinessWiring implements OnApplicationBootstrap {
  constructor(
    private readonly readiness: ReadinessRegistry,
    private readonly dataSource: DataSource,
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
  ) {}

  onApplicationBootstrap(): void {
    this.readiness.register('database', async () => {
      await this.dataSource.query('SELECT 1');
      return null;
    });
    this.readiness.register('bus', () => {
      const health = this.bus.health();
      return health.ok ? null : health.detail;
    });
  }
}

function migrationsFor(services: readonly string[]): MigrationClass[] {
  const byService: Record<string, MigrationClass[]> = {
    auth: AUTH_MIGRATIONS,
    ledger: LEDGER_MIGRATIONS,
    pricing: PRICING_MIGRATIONS,
    // The api reads the ledger's read models and keeps its admin token table.
    api: [...LEDGER_MIGRATIONS, ...API_MIGRATIONS],
  };
  return services.flatMap((s) => byService[s] ?? []);
}

@Module({})
class ProxyKeysGlobalModule {}

@Module({})
export class ServeModule {
  static forRoot(options: ServeOptions): DynamicModule {
    const { config } = options;
    const threaded = new Set(options.pipelineThreadServices ?? []);
    // The services of this thread; the migrations are all of the process's (the worker only connects).
    const services = new Set(config.services.filter((s) => !threaded.has(s)));
    const messaging = {
      amqpUrl: config.amqp_url || undefined,
      exchange: config.amqp_exchange,
      // Private to the process: one spool per set of services (two processes running the same services on
      // one machine need their own data dirs or outbound.spool_dir).
      spoolDir: config.outbound.spool_dir || join(config.data_dir, 'spool', config.services.join('+')),
      queueSize: config.outbound.queue_size,
      batch: config.outbound.batch_size,
      connectionName: `spendops ${config.services.join(',')} pid ${process.pid}`,
    };
    const imports: Array<DynamicModule | Type> = [
      OpsModule,
      PersistenceModule.forRoot({
        databaseUrl: config.database_url || undefined,
        dataDir: config.data_dir,
        migrations: migrationsFor(config.services),
        log: (message) => log.info(message),
        // The embedded server is background work of the proxy's process; with no proxy here, nothing to yield to.
        embeddedNice: config.services.includes('proxy') ? config.scheduling.background_nice : 0,
      }),
      threaded.size > 0
        ? PipelineMessagingModule.forRoot(messaging, {
            services: [...threaded],
            dataDir: config.data_dir,
            logLevel: config.log.level,
            settings: pipelineSettings(config),
            backgroundNice: config.services.includes('proxy') ? config.scheduling.background_nice : 0,
            faultSignal: process.env.SPENDOPS_PIPELINE_FAULTS === '1',
          })
        : MessagingModule.forRoot(messaging),
    ];
    const providers: Provider[] = [{ provide: SERVE_OPTIONS, useValue: options }, ReadinessWiring];

    if (services.has('auth')) imports.push(AuthModule.forRoot({ serverSecret: options.serverSecret }));
    if (services.has('proxy')) {
      // The proxy module takes its authorizer from the global scope, so the key replica's module is re-exported globally.
      const keys = ProxyKeysModule.forRoot({ serverSecret: options.serverSecret });
      imports.push(
        { module: ProxyKeysGlobalModule, global: true, imports: [keys], exports: [keys] },
        AdmissionGuardsModule.forRoot(config),
        ProxyModule.forRoot({
          upstreams: config.upstreams,
          customProviders: config.providers,
          maxJsonBodyBytes: config.proxy.max_json_body,
          captureRequestBytes: config.capture.max_body_bytes,
          captureResponseBytes: config.capture.max_body_bytes,
          captureEnabled: config.capture.enabled,
          connectTimeoutMs: config.proxy.connect_timeout_ms,
          headersTimeoutMs: config.proxy.response_header_timeout_ms,
          drainTimeoutMs: config.proxy.drain_timeout_ms,
          accessLog: config.log.access,
        }),
      );
      providers.push(ProxyMount);
    }
    imports.push(...pipelineModules(services, pipelineSettings(config)));
    if (config.services.includes('ledger')) imports.push(ConfigBudgetsModule.forRoot(config.budgets));
    if (services.has('api')) {
      imports.push(
        ApiModule.forRoot({ adminToken: config.admin_token, announceToken: options.announceAdminToken }),
      );
      providers.push({
        provide: USAGE_READ_MODEL,
        inject: [DataSource],
        useFactory: (dataSource: DataSource) => new LedgerQueries(dataSource),
      });
    }
    return {
      module: ServeModule,
      global: true,
      imports,
      providers,
      exports: services.has('api') ? [USAGE_READ_MODEL] : [],
    };
  }
}
