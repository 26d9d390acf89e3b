// `spendops serve`: the services of `--services` (default all) in one process, on one port.
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { mkdirSync } from 'node:fs';
import { constants } from 'node:os';
import { resolve } from 'node:path';
import { JsonLogger, NestJsonLogger, ReadinessRegistry } from '@spendops/observability';
import { SpendOpsConfig } from '@spendops/config';
import { CommonFlags, loadConfig } from './load-config';
import { RequestDispatcher, splitHostPort } from '../serve/http-server';
import { ServeModule } from '../serve/serve.module';
import { JsonErrorFilter } from '../serve/json-error.filter';
import { knownProviderNames } from '../serve/providers';
import { loadServerSecret } from '../serve/server-secret';
import { pipelineThreadServices, pipelineThreadSetting } from '../serve/pipeline-thread-setting';
import { ProxyHandler } from '../../../proxy/src';

const log = new JsonLogger('serve');

export interface ServeFlags extends CommonFlags {
  /** `--pipeline-thread=false`: the pipeline services on the main thread too (default: a worker thread). */
  pipelineThread?: string | boolean;
}

export async function runServe(flags: ServeFlags): Promise<void> {
  const { pipelineThread, ...common } = flags;
  const config = loadConfig(common, process.env, knownProviderNames());
  config.data_dir = resolve(config.data_dir);
  mkdirSync(config.data_dir, { recursive: true, mode: 0o700 });
  JsonLogger.setLevel(config.log.level);
  // A signal while starting (Ctrl-C, a service manager's stop) must not kill the process with its embedded
  // PostgreSQL and pipeline thread half up: starting finishes, then the normal shutdown runs. A second signal
  // exits at once.
  let signalWhileStarting: NodeJS.Signals | null = null;
  const onSignalWhileStarting = (signal: NodeJS.Signals): void => {
    if (signalWhileStarting) process.exit(128 + constants.signals[signal]);
    signalWhileStarting = signal;
    log.warn('signal while starting: stopping once started (send it again to exit now)', { signal });
  };
  process.on('SIGTERM', onSignalWhileStarting);
  process.on('SIGINT', onSignalWhileStarting);
  let app: NestFastifyApplication;
  try {
    app = await startServer(config, { pipelineThread: pipelineThreadSetting(pipelineThread, process.env) });
  } finally {
    process.off('SIGTERM', onSignalWhileStarting);
    process.off('SIGINT', onSignalWhileStarting);
  }
  const stop = installSignalHandlers(app, config);
  if (signalWhileStarting) await stop(signalWhileStarting);
}

export async function startServer(
  config: SpendOpsConfig,
  options: { pipelineThread?: boolean } = {},
): Promise<NestFastifyApplication> {
  const dispatcher = new RequestDispatcher();
  // On close, connections still open after the proxy's drain (idle keep-alives, half-sent requests) are cut:
  // otherwise one client holding a connection keeps the process from exiting.
  const adapter = new FastifyAdapter({
    serverFactory: dispatcher.serverFactory,
    bodyLimit: 16 << 20,
    forceCloseConnections: true,
  });
  const needsSecret = config.services.includes('auth') || config.services.includes('proxy');
  let adminToken: string | null = null;
  const module = ServeModule.forRoot({
    config,
    dispatcher,
    serverSecret: needsSecret ? loadServerSecret(config) : '',
    announceAdminToken: (token) => (adminToken = token),
    pipelineThreadServices: pipelineThreadServices(
      config,
      options.pipelineThread ?? pipelineThreadSetting(undefined, process.env),
    ),
  });
  const app = await NestFactory.create<NestFastifyApplication>(module, adapter, {
    logger: new NestJsonLogger(),
    abortOnError: false,
  });
  app.useGlobalFilters(new JsonErrorFilter());
  const { host, port } = splitHostPort(config.addr);
  await app.listen(port, host);
  const address = app.getHttpServer().address();
  const actual = typeof address === 'object' && address ? address.port : port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${actual}`;
  if (adminToken) {
    process.stdout.write(`Bootstrap admin token (shown once; only its hash is stored): ${adminToken}\n`);
  }
  process.stdout.write(`SpendOps listening on ${url} (services: ${config.services.join(',')})\n`);
  log.info('listening', { url, services: config.services, data_dir: config.data_dir });
  return app;
}

/** SIGTERM/SIGINT drain and stop the server; returns that stop, for a signal that came while starting. */
function installSignalHandlers(
  app: NestFastifyApplication,
  config: SpendOpsConfig,
): (signal: string) => Promise<void> {
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('stopping', { signal, drain_timeout_ms: config.proxy.drain_timeout_ms });
    app.get(ReadinessRegistry).markDraining();
    try {
      // First the data plane: new proxy requests get 503, in-flight requests and streams finish. Only then does
      // Nest's shutdown run: the outbound queue is flushed to the bus, the bus delivers what it accepted and
      // closes (with a pipeline thread: it waits until the worker settled everything, then stops the worker),
      // the store closes last.
      if (config.services.includes('proxy')) {
        const drained = await app.get(ProxyHandler, { strict: false }).drain(config.proxy.drain_timeout_ms);
        if (!drained) log.warn('drain timeout: cutting the requests still in flight');
      }
      await app.close();
      process.exit(0);
    } catch (err) {
      log.error('shutdown failed', { error: err instanceof Error ? err.message : String(err) });
      process.exit(1);
    }
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
  return stop;
}
