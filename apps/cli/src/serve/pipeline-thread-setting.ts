// Whether `serve` runs the pipeline services on a worker thread: `--pipeline-thread=false` or
// SPENDOPS_PIPELINE_THREAD=false keeps everything on one thread (debugging, profiles of the whole pipeline).
// Only all-in-one processes split: with a broker (distributed mode) every service already has its own process.
import { SpendOpsConfig } from '@spendops/config';
import { isPipelineService } from './pipeline-modules';

/** The default once every e2e spec passes with the worker. */
export const PIPELINE_THREAD_DEFAULT = true;

export function parsePipelineThread(value: unknown): boolean | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'boolean') return value;
  const text = String(value).trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(text)) return true;
  if (['0', 'false', 'no', 'off'].includes(text)) return false;
  throw new Error(`--pipeline-thread: expected true or false, got ${String(value)}`);
}

/** The setting from the flag, then the environment, then the default. */
export function pipelineThreadSetting(flag: unknown, env: NodeJS.ProcessEnv): boolean {
  return (
    parsePipelineThread(flag) ?? parsePipelineThread(env.SPENDOPS_PIPELINE_THREAD) ?? PIPELINE_THREAD_DEFAULT
  );
}

/** The services the worker thread runs for this configuration (empty: everything stays on the main thread). */
export function pipelineThreadServices(config: SpendOpsConfig, enabled: boolean): string[] {
  if (!enabled || config.amqp_url) return [];
  // Without the proxy on the main thread there is no request path to protect.
  if (!config.services.includes('proxy')) return [];
  return config.services.filter(isPipelineService);
}
