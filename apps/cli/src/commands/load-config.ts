// Flags > environment > config file > defaults, validated; a bad value names its field.
import {
  SpendOpsConfig,
  configFromEnv,
  defaultConfig,
  loadConfigFile,
  mergeRaw,
  parseUpstreamFlags,
  validateConfig,
} from '@spendops/config';
import { ProviderRegistry } from '@spendops/providers';

export interface CommonFlags {
  addr?: string;
  dataDir?: string;
  config?: string;
  upstream?: string[];
  services?: string;
}

export function loadConfig(
  flags: CommonFlags,
  env: NodeJS.ProcessEnv,
  knownProviders: readonly string[],
): SpendOpsConfig {
  let config = defaultConfig();
  const file = flags.config ?? env.SPENDOPS_CONFIG;
  if (file) config = loadConfigFile(config, file);
  config = mergeRaw(config, configFromEnv(env, knownProviders));
  const fromFlags: Record<string, unknown> = {};
  if (flags.addr !== undefined) fromFlags.addr = flags.addr;
  if (flags.dataDir !== undefined) fromFlags.data_dir = flags.dataDir;
  if (flags.services !== undefined) fromFlags.services = flags.services;
  if (flags.upstream && flags.upstream.length > 0) fromFlags.upstreams = parseUpstreamFlags(flags.upstream);
  config = mergeRaw(config, fromFlags);
  validateConfig(config);
  // Provider definitions and overrides are checked by the registry itself; its errors name the field.
  new ProviderRegistry({ upstreams: config.upstreams, custom: config.providers });
  return config;
}
