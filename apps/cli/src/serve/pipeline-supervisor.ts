// Main-thread side of the pipeline worker: starts it once the database is up, waits for it before the server
// listens, restarts it with backoff when it dies (what it had accepted but not finished is replayed by the bus,
// what it had not accepted stays in the outbound queue/spool), reports it on /readyz, and stops it at shutdown
// after it settled what it was sent.
import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { DATABASE_CONNECTION, type DatabaseConnection } from '@spendops/persistence';
import {
  BridgeLink,
  FramePort,
  MESSAGE_BUS,
  OUTBOUND_QUEUE,
  type OutboundQueue,
  ThreadBridgeBus,
} from '@spendops/messaging';
import { JsonLogger, ReadinessRegistry } from '@spendops/observability';
import { PipelineMetrics } from './pipeline-metrics';
import type { PipelineSettings } from './pipeline-modules';
import type { PipelineWorkerData } from './pipeline-worker';

export const PIPELINE_THREAD_OPTIONS = Symbol('PIPELINE_THREAD_OPTIONS');

export interface PipelineThreadOptions {
  services: string[];
  dataDir: string;
  logLevel: string;
  settings: PipelineSettings;
  /** The worker thread's nice level (0 = the main thread's); config `scheduling.background_nice`. */
  backgroundNice?: number;
  /** How long boot waits for the first worker before listening anyway (default 60 s). */
  startTimeoutMs?: number;
  /** How long shutdown waits for the worker to close its services (default 15 s). */
  shutdownTimeoutMs?: number;
  /** SIGUSR2 terminates the worker, as a crash would (fault-injection tests only). */
  faultSignal?: boolean;
}

const log = new JsonLogger('pipeline');
const BACKOFF_MS = [100, 250, 500, 1_000, 2_000, 5_000, 10_000];
/** A worker alive this long resets the backoff. */
const HEALTHY_AFTER_MS = 30_000;

@Injectable()
export class PipelineSupervisor implements OnApplicationBootstrap {
  private worker: Worker | null = null;
  private link: BridgeLink | null = null;
  private stopping = false;
  private restarts = 0;
  private failures = 0;
  private startedAt = 0;
  private restartTimer?: NodeJS.Timeout;
  private state: 'starting' | 'ready' | 'restarting' | 'stopped' = 'starting';
  private readonly metrics = new PipelineMetrics();

  constructor(
    @Inject(MESSAGE_BUS) private readonly bus: ThreadBridgeBus,
    @Inject(OUTBOUND_QUEUE) private readonly outbound: OutboundQueue,
    @Inject(DATABASE_CONNECTION) private readonly database: DatabaseConnection,
    @Inject(PIPELINE_THREAD_OPTIONS) private readonly options: PipelineThreadOptions,
    private readonly readiness: ReadinessRegistry,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.bus.onClosePeer(() => this.stop());
    // Whatever the worker never settled before shutdown goes to the spool, for the next run.
    this.bus.onUnsettledAtClose((messages) => {
      for (const m of messages) this.outbound.enqueue(m.topic, m.payload, m.id);
      log.warn('pipeline did not finish before shutdown; kept in the spool', { messages: messages.length });
    });
    this.readiness.register('pipeline', () =>
      this.state === 'ready' ? null : `pipeline thread ${this.state} (restarts: ${this.restarts})`,
    );
    if (this.options.faultSignal) process.on('SIGUSR2', () => void this.worker?.terminate());
    this.spawn();
    const timeoutMs = this.options.startTimeoutMs ?? 60_000;
    let timer: NodeJS.Timeout | undefined;
    const started = await Promise.race([
      this.bus.whenPeerReady().then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
    ]);
    clearTimeout(timer);
    if (!started) log.error('pipeline thread not ready; serving anyway (captures wait in the spool)', {});
  }

  /** Shuts the worker's services down (they finish what they hold), then ends the thread. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    const worker = this.worker;
    const link = this.link;
    if (!worker) {
      this.state = 'stopped';
      return;
    }
    // A worker still starting holds nothing of its own (the main side keeps what it sent until settled, and
    // spools it at close): it is ended, not asked to shut its services down.
    if (link?.open && this.state === 'ready') {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        link.call({ k: 'shutdown' }).catch((err: unknown) => {
          log.warn('pipeline shutdown failed', { error: err instanceof Error ? err.message : String(err) });
        }),
        new Promise((resolve) => (timer = setTimeout(resolve, this.options.shutdownTimeoutMs ?? 15_000))),
      ]);
      clearTimeout(timer);
    }
    await worker.terminate();
    this.state = 'stopped';
  }

  private spawn(): void {
    const data: PipelineWorkerData = {
      services: this.options.services,
      databaseUrl: this.database.url,
      dataDir: this.options.dataDir,
      logLevel: this.options.logLevel,
      settings: this.options.settings,
      backgroundNice: this.options.backgroundNice ?? 0,
    };
    const worker = new Worker(join(__dirname, 'pipeline-worker.js'), { workerData: data });
    const link = new BridgeLink(worker as unknown as FramePort);
    this.worker = worker;
    this.link = link;
    this.startedAt = Date.now();
    this.bus.attach(link);
    this.metrics.setLink(link);
    void this.bus.whenPeerReady().then(() => {
      if (this.worker !== worker) return;
      this.state = 'ready';
      void this.metrics.refreshNames();
      if (this.restarts > 0) log.info('pipeline thread back', { restarts: this.restarts });
    });
    worker.on('error', (err) => log.error('pipeline thread crashed', { error: err.message }));
    worker.once('exit', (code) => this.exited(worker, code));
  }

  private exited(worker: Worker, code: number): void {
    if (this.worker !== worker) return;
    this.worker = null;
    this.link = null;
    this.metrics.setLink(null);
    this.bus.detach(`pipeline thread exited with ${code}`);
    if (this.stopping) {
      this.state = 'stopped';
      return;
    }
    this.state = 'restarting';
    this.failures = Date.now() - this.startedAt > HEALTHY_AFTER_MS ? 1 : this.failures + 1;
    const delay = BACKOFF_MS[Math.min(this.failures, BACKOFF_MS.length) - 1];
    this.restarts++;
    log.error('pipeline thread exited; restarting', {
      exit_code: code,
      restart_in_ms: delay,
      restarts: this.restarts,
      unsettled: this.bus.unsettled,
    });
    this.restartTimer = setTimeout(() => {
      if (!this.stopping) this.spawn();
    }, delay);
  }
}
