// The main thread's messaging when the pipeline runs on a worker thread: MessagingModule's providers and shutdown
// order, with the thread bridge as MESSAGE_BUS, and the supervisor of the worker. Shutdown: the outbound queue
// publishes into the worker, the bridge waits until the worker settled it all, stops the worker, then closes.
import { DynamicModule, Global, Module } from '@nestjs/common';
import {
  MESSAGE_BUS,
  MESSAGING_OPTIONS,
  MessagingLifecycle,
  type MessagingModuleOptions,
  OUTBOUND_QUEUE,
  SpoolingOutboundQueue,
  ThreadBridgeBus,
} from '@spendops/messaging';
import {
  PIPELINE_THREAD_OPTIONS,
  PipelineSupervisor,
  type PipelineThreadOptions,
} from './pipeline-supervisor';

@Global()
@Module({})
export class PipelineMessagingModule {
  static forRoot(messaging: MessagingModuleOptions, pipeline: PipelineThreadOptions): DynamicModule {
    return {
      module: PipelineMessagingModule,
      global: true,
      providers: [
        { provide: MESSAGING_OPTIONS, useValue: messaging },
        { provide: PIPELINE_THREAD_OPTIONS, useValue: pipeline },
        {
          provide: MESSAGE_BUS,
          useFactory: () =>
            new ThreadBridgeBus({
              role: 'main',
              ...messaging.retry,
              settleTimeoutMs: messaging.drainTimeoutMs,
            }),
        },
        {
          provide: OUTBOUND_QUEUE,
          inject: [MESSAGE_BUS],
          useFactory: (bus: ThreadBridgeBus) =>
            new SpoolingOutboundQueue(
              bus,
              messaging.spoolDir,
              messaging.queueSize,
              messaging.batch,
              messaging.spool,
            ),
        },
        MessagingLifecycle,
        PipelineSupervisor,
      ],
      exports: [MESSAGE_BUS, OUTBOUND_QUEUE],
    };
  }
}
