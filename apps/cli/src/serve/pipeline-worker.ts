// Entry of the pipeline worker thread (all-in-one mode): the pipeline services in a Nest application context of
// their own, on the main thread's PostgreSQL, joined to the main thread's bus by the thread bridge. The main
// thread (PipelineSupervisor) starts it, restarts it when it dies, and asks it to shut down.
import '../aliases';
import 'reflect-metadata';
import { BeforeApplicationShutdown, DynamicModule, Inject, Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { parentPort, workerData } from 'node:worker_threads';
import { BridgeLink, FramePort, MESSAGE_BUS, ThreadBridgeBus } from '@spendops/messaging';
import { JsonLogger, metricsRegistry, NestJsonLogger, OpsModule } from '@spendops/observability';
import { PersistenceModule } from '@spendops/persistence';
import { lowerThisThread } from '@spendops/scheduling';
import { pipelineModules, PipelineSettings } from './pipeline-modules';

/** What the main thread passes to the worker (structured-cloned). */
export interface PipelineWorkerData {
  services: string[];
  databaseUrl: string;
  dataDir: string;
  logLevel: string;
  /** Connections of the worker's pool. */
  poolSize?: number;
  settings: PipelineSettings;
  /** Nice level this thread takes before it starts (0: none). */
  backgroundNice: number;
}

const log = new JsonLogger('pipeline');

/** The bus of this thread, closed before the database pool (handlers in flight finish first). */
@Injectable()
class PipelineBusLifecycle implements BeforeApplicationShutdown {
  constructor(@Inject(MESSAGE_BUS) private readonly bus: ThreadBridgeBus) {}

  async beforeApplicationShutdown(): Promise<void> {
    await this.bus.close();
  }
}

@Module({})
class PipelineWorkerModule {
  static forRoot(data: PipelineWorkerData, bus: ThreadBridgeBus): DynamicModule {
    return {
      module: PipelineWorkerModule,
      global: true,
      imports: [
        OpsModule,
        // The main thread ran every migration (and owns the embedded server): this is a second pool only.
        PersistenceModule.forRoot({
          databaseUrl: data.databaseUrl,
          dataDir: data.dataDir,
          migrations: [],
          poolSize: data.poolSize,
        }),
        ...pipelineModules(new Set(data.services), data.settings),
      ],
      providers: [{ provide: MESSAGE_BUS, useValue: bus }, PipelineBusLifecycle],
      exports: [MESSAGE_BUS],
    };
  }
}

async function runPipelineWorker(): Promise<void> {
  const data = workerData as PipelineWorkerData;
  JsonLogger.setLevel(data.logLevel as Parameters<typeof JsonLogger.setLevel>[0]);
  // Events may wait; requests may not: under CPU contention the proxy's thread goes first.
  const priority = lowerThisThread(data.backgroundNice);
  if (priority.applied)
    log.info('pipeline thread priority lowered', { nice: priority.nice, tid: priority.ids[0] });
  else if (data.backgroundNice > 0)
    log.warn('pipeline thread priority unchanged', { reason: priority.reason });
  const port = parentPort as unknown as FramePort;
  const link = new BridgeLink(port);
  const bus = new ThreadBridgeBus({ role: 'pipeline' });
  bus.attach(link);
  const app = await NestFactory.createApplicationContext(PipelineWorkerModule.forRoot(data, bus), {
    logger: new NestJsonLogger(),
    abortOnError: false,
  });
  // The main thread's /metrics asks for this thread's registry at each scrape.
  link.onCall('metrics', () => metricsRegistry.getMetricsAsJSON());
  let closing: Promise<void> | null = null;
  link.onCall('shutdown', () => {
    closing ??= app.close();
    return closing;
  });
  await app.init();
  bus.announceReady();
  log.info('pipeline thread ready', { services: data.services });
}

runPipelineWorker().catch((err: unknown) => {
  log.error('pipeline thread failed to start', { error: err instanceof Error ? err.message : String(err) });
  // The supervisor sees the exit and starts another.
  process.exit(1);
});
