// The HMAC key API keys are hashed under. Configured (`SPENDOPS_SERVER_SECRET`, hex), or generated once into
// `<data-dir>/server.secret` (mode 0600) for a single machine. Distributed processes must share a configured
// one: a per-process file would make every key unverifiable on the other processes.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SpendOpsConfig } from '@spendops/config';

export function loadServerSecret(config: SpendOpsConfig): string {
  if (config.server_secret) return config.server_secret;
  if (config.database_url && config.services.length < 6) {
    throw new Error('server_secret: set SPENDOPS_SERVER_SECRET (hex, >= 32 bytes) when services run apart');
  }
  const file = join(config.data_dir, 'server.secret');
  if (existsSync(file)) {
    const hex = readFileSync(file, 'utf8').trim();
    if (!/^[0-9a-f]{64,}$/i.test(hex)) throw new Error(`server_secret: ${file} does not hold a hex secret`);
    return hex;
  }
  const hex = randomBytes(32).toString('hex');
  try {
    writeFileSync(file, `${hex}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    // Another process (the CLI beside a starting server) wrote it first: use theirs.
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return loadServerSecret(config);
    throw err;
  }
  return hex;
}
