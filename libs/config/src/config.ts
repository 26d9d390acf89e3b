// The validated configuration of a `spendops serve` process. Precedence: flags > environment > config file
// (YAML) > defaults. Every invalid value fails at start with an error naming the field.
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import type { BudgetSpec } from '@spendops/contracts';
import { parseBudgetsConfig } from './budgets-config';

export const SERVICE_NAMES = ['proxy', 'auth', 'extraction', 'pricing', 'ledger', 'api'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

export interface CustomProviderConfig {
  name: string;
  base_url?: string;
  dialect?: string;
  inject_stream_usage?: boolean;
  strip_prefix?: string;
}

export interface SpendOpsConfig {
  addr: string;
  data_dir: string;
  env: string;
  admin_token: string;
  server_secret: string;
  /** PostgreSQL URL; '' = embedded PostgreSQL in `<data_dir>/postgres`. */
  database_url: string;
  /** RabbitMQ URL; '' = the in-process bus (all services must then run in this process). */
  amqp_url: string;
  amqp_exchange: string;
  services: ServiceName[];
  upstreams: Record<string, string>;
  providers: CustomProviderConfig[];
  proxy: {
    max_json_body: number;
    connect_timeout_ms: number;
    response_header_timeout_ms: number;
    drain_timeout_ms: number;
  };
  /** `enabled: false` stops the proxy publishing capture records (no events): for measuring what capture costs. */
  capture: { max_body_bytes: number; enabled: boolean };
  outbound: { queue_size: number; batch_size: number; spool_dir: string };
  /**
   * All-in-one: the nice level (0..19, Linux) of the work that can wait, the pipeline thread and the embedded
   * PostgreSQL, so that when the CPU is contended the proxy's request path runs first. 0 = same priority.
   */
  scheduling: { background_nice: number };
  log: { level: 'debug' | 'info' | 'warn' | 'error'; access: boolean };
  /** Budgets the config file defines (budgets-config.ts), validated, applied at start by the ledger's process. */
  budgets: BudgetSpec[];
  /** Proxies enforcing budgets with `enforce: true` (docs/budgets-enforcement.md). */
  budget_enforcement: {
    /** Before the proxy has loaded the budgets and prices: deny (true) or admit (false) every request. */
    fail_closed: boolean;
    default_max_output_tokens: number;
    prompt_bytes_per_token: number;
    settle_timeout_ms: number;
    heartbeat_interval_ms: number;
  };
  /** Delivery of budget threshold alerts (the ledger's process; docs/budgets.md). */
  budget_alerts: {
    /** SMTP for email alerts; host '' = email not configured (email deliveries fail, visibly, at once). */
    smtp: {
      host: string;
      port: number;
      from: string;
      /** TLS from the first byte (port 465); otherwise STARTTLS when offered, required if `require_tls`. */
      secure: boolean;
      require_tls: boolean;
      user: string;
      /** Prefer SPENDOPS_SMTP_PASSWORD over the file. */
      password: string;
    };
    max_attempts: number;
    retry_base_ms: number;
    timeout_ms: number;
  };
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export function defaultConfig(): SpendOpsConfig {
  return {
    addr: '127.0.0.1:8080',
    data_dir: './spendops-data',
    env: '',
    admin_token: '',
    server_secret: '',
    database_url: '',
    amqp_url: '',
    amqp_exchange: 'spendops.events',
    services: [...SERVICE_NAMES],
    upstreams: {},
    providers: [],
    proxy: {
      max_json_body: 64 << 20,
      connect_timeout_ms: 10_000,
      response_header_timeout_ms: 10 * 60_000,
      drain_timeout_ms: 30_000,
    },
    capture: { max_body_bytes: 4 << 20, enabled: true },
    outbound: { queue_size: 2000, batch_size: 500, spool_dir: '' },
    scheduling: { background_nice: 10 },
    log: { level: 'info', access: true },
    budgets: [],
    budget_enforcement: {
      fail_closed: false,
      default_max_output_tokens: 4096,
      prompt_bytes_per_token: 1,
      settle_timeout_ms: 10 * 60_000,
      heartbeat_interval_ms: 1000,
    },
    budget_alerts: {
      smtp: { host: '', port: 587, from: '', secure: false, require_tls: false, user: '', password: '' },
      max_attempts: 8,
      retry_base_ms: 5000,
      timeout_ms: 10_000,
    },
  };
}

type Raw = Record<string, unknown>;

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses `10s`, `5m`, `1h30m`, `250ms` into milliseconds. */
export function parseDuration(field: string, value: unknown): number {
  const text = String(value).trim();
  const parts = /^-?(\d+(?:\.\d+)?(ms|s|m|h))+$/.test(text) ? text.match(/\d+(?:\.\d+)?(ms|s|m|h)/g) : null;
  if (!parts) throw new ConfigError(`${field}: "${text}" is not a duration like 10s or 5m`);
  const ms = parts.reduce((sum, p) => {
    const [, num, unit] = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(p)!;
    return sum + Number(num) * DURATION_UNITS[unit];
  }, 0);
  return text.startsWith('-') ? -ms : ms;
}

function expectObject(field: string, value: unknown): Raw {
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new ConfigError(`${field}: must be a mapping`);
  return value as Raw;
}

function rejectUnknown(field: string, raw: Raw, known: readonly string[]): void {
  for (const key of Object.keys(raw)) {
    if (!known.includes(key)) {
      throw new ConfigError(`${field ? `${field}.` : ''}${key}: unknown field`);
    }
  }
}

function str(field: string, value: unknown): string {
  if (typeof value !== 'string') throw new ConfigError(`${field}: must be a string`);
  return value;
}

function int(field: string, value: unknown): number {
  const n = typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n))
    throw new ConfigError(`${field}: must be an integer`);
  return n;
}

function bool(field: string, value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new ConfigError(`${field}: must be true or false`);
}

function services(field: string, value: unknown): ServiceName[] {
  const list = Array.isArray(value)
    ? value.map((v) => String(v).trim())
    : String(value)
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
  if (list.length === 0) throw new ConfigError(`${field}: name at least one of ${SERVICE_NAMES.join(', ')}`);
  for (const name of list) {
    if (!(SERVICE_NAMES as readonly string[]).includes(name)) {
      throw new ConfigError(`${field}: "${name}" is not one of ${SERVICE_NAMES.join(', ')}`);
    }
  }
  return [...new Set(list)] as ServiceName[];
}

/** Merges a parsed YAML document (or env/flag values in the same shape) over `config`. */
export function mergeRaw(config: SpendOpsConfig, raw: Raw): SpendOpsConfig {
  rejectUnknown('', raw, [
    'addr',
    'data_dir',
    'env',
    'admin_token',
    'server_secret',
    'database_url',
    'amqp_url',
    'amqp_exchange',
    'services',
    'upstreams',
    'providers',
    'proxy',
    'capture',
    'outbound',
    'scheduling',
    'log',
    'budget_enforcement',
    'budgets',
    'budget_alerts',
  ]);
  const c = structuredClone(config);
  for (const key of [
    'addr',
    'data_dir',
    'env',
    'admin_token',
    'server_secret',
    'database_url',
    'amqp_url',
    'amqp_exchange',
  ] as const) {
    if (raw[key] !== undefined && raw[key] !== null) c[key] = str(key, raw[key]);
  }
  if (raw.services !== undefined) c.services = services('services', raw.services);
  if (raw.upstreams !== undefined) {
    const ups = expectObject('upstreams', raw.upstreams);
    for (const [name, url] of Object.entries(ups)) c.upstreams[name] = str(`upstreams.${name}`, url);
  }
  if (raw.providers !== undefined) {
    if (!Array.isArray(raw.providers)) throw new ConfigError('providers: must be a list');
    c.providers = raw.providers.map((p, i) => {
      const field = `providers[${i}]`;
      const def = expectObject(field, p);
      rejectUnknown(field, def, ['name', 'base_url', 'dialect', 'inject_stream_usage', 'strip_prefix']);
      const out: CustomProviderConfig = { name: str(`${field}.name`, def.name ?? '') };
      if (def.base_url !== undefined) out.base_url = str(`${field}.base_url`, def.base_url);
      if (def.dialect !== undefined) out.dialect = str(`${field}.dialect`, def.dialect);
      if (def.inject_stream_usage !== undefined) {
        out.inject_stream_usage = bool(`${field}.inject_stream_usage`, def.inject_stream_usage);
      }
      if (def.strip_prefix !== undefined) out.strip_prefix = str(`${field}.strip_prefix`, def.strip_prefix);
      return out;
    });
  }
  if (raw.proxy !== undefined) {
    const p = expectObject('proxy', raw.proxy);
    rejectUnknown('proxy', p, [
      'max_json_body',
      'connect_timeout',
      'response_header_timeout',
      'drain_timeout',
    ]);
    if (p.max_json_body !== undefined) c.proxy.max_json_body = int('proxy.max_json_body', p.max_json_body);
    if (p.connect_timeout !== undefined) {
      c.proxy.connect_timeout_ms = parseDuration('proxy.connect_timeout', p.connect_timeout);
    }
    if (p.response_header_timeout !== undefined) {
      c.proxy.response_header_timeout_ms = parseDuration(
        'proxy.response_header_timeout',
        p.response_header_timeout,
      );
    }
    if (p.drain_timeout !== undefined) {
      c.proxy.drain_timeout_ms = parseDuration('proxy.drain_timeout', p.drain_timeout);
    }
  }
  if (raw.capture !== undefined) {
    const cap = expectObject('capture', raw.capture);
    rejectUnknown('capture', cap, ['max_body_bytes', 'enabled']);
    if (cap.enabled !== undefined) c.capture.enabled = bool('capture.enabled', cap.enabled);
    if (cap.max_body_bytes !== undefined) {
      c.capture.max_body_bytes = int('capture.max_body_bytes', cap.max_body_bytes);
    }
  }
  if (raw.scheduling !== undefined) {
    const sch = expectObject('scheduling', raw.scheduling);
    rejectUnknown('scheduling', sch, ['background_nice']);
    if (sch.background_nice !== undefined) {
      c.scheduling.background_nice = int('scheduling.background_nice', sch.background_nice);
    }
  }
  if (raw.outbound !== undefined) {
    const o = expectObject('outbound', raw.outbound);
    rejectUnknown('outbound', o, ['queue_size', 'batch_size', 'spool_dir']);
    if (o.queue_size !== undefined) c.outbound.queue_size = int('outbound.queue_size', o.queue_size);
    if (o.batch_size !== undefined) c.outbound.batch_size = int('outbound.batch_size', o.batch_size);
    if (o.spool_dir !== undefined) c.outbound.spool_dir = str('outbound.spool_dir', o.spool_dir);
  }
  if (raw.log !== undefined) {
    const l = expectObject('log', raw.log);
    rejectUnknown('log', l, ['level', 'access']);
    if (l.level !== undefined) c.log.level = str('log.level', l.level) as SpendOpsConfig['log']['level'];
    if (l.access !== undefined) c.log.access = bool('log.access', l.access);
  }
  if (raw.budget_enforcement !== undefined) mergeBudgetEnforcement(c, raw.budget_enforcement);
  if (raw.budgets !== undefined) c.budgets = parseBudgetsConfig(raw.budgets);
  if (raw.budget_alerts !== undefined) mergeBudgetAlerts(c, raw.budget_alerts);
  return c;
}

function mergeBudgetAlerts(c: SpendOpsConfig, value: unknown): void {
  const f = 'budget_alerts';
  const b = expectObject(f, value);
  rejectUnknown(f, b, ['smtp', 'max_attempts', 'retry_base', 'timeout']);
  const a = c.budget_alerts;
  if (b.max_attempts !== undefined) a.max_attempts = int(`${f}.max_attempts`, b.max_attempts);
  if (b.retry_base !== undefined) a.retry_base_ms = parseDuration(`${f}.retry_base`, b.retry_base);
  if (b.timeout !== undefined) a.timeout_ms = parseDuration(`${f}.timeout`, b.timeout);
  if (b.smtp === undefined) return;
  const s = expectObject(`${f}.smtp`, b.smtp);
  rejectUnknown(`${f}.smtp`, s, ['host', 'port', 'from', 'secure', 'require_tls', 'user', 'password']);
  if (s.host !== undefined) a.smtp.host = str(`${f}.smtp.host`, s.host);
  if (s.port !== undefined) a.smtp.port = int(`${f}.smtp.port`, s.port);
  if (s.from !== undefined) a.smtp.from = str(`${f}.smtp.from`, s.from);
  if (s.secure !== undefined) a.smtp.secure = bool(`${f}.smtp.secure`, s.secure);
  if (s.require_tls !== undefined) a.smtp.require_tls = bool(`${f}.smtp.require_tls`, s.require_tls);
  if (s.user !== undefined) a.smtp.user = str(`${f}.smtp.user`, s.user);
  if (s.password !== undefined) a.smtp.password = str(`${f}.smtp.password`, s.password);
}

function mergeBudgetEnforcement(c: SpendOpsConfig, value: unknown): void {
  const f = 'budget_enforcement';
  const b = expectObject(f, value);
  rejectUnknown(f, b, [
    'fail_closed',
    'default_max_output_tokens',
    'prompt_bytes_per_token',
    'settle_timeout',
    'heartbeat_interval',
  ]);
  const e = c.budget_enforcement;
  if (b.fail_closed !== undefined) e.fail_closed = bool(`${f}.fail_closed`, b.fail_closed);
  if (b.default_max_output_tokens !== undefined) {
    e.default_max_output_tokens = int(`${f}.default_max_output_tokens`, b.default_max_output_tokens);
  }
  if (b.prompt_bytes_per_token !== undefined) {
    e.prompt_bytes_per_token = int(`${f}.prompt_bytes_per_token`, b.prompt_bytes_per_token);
  }
  if (b.settle_timeout !== undefined)
    e.settle_timeout_ms = parseDuration(`${f}.settle_timeout`, b.settle_timeout);
  if (b.heartbeat_interval !== undefined) {
    e.heartbeat_interval_ms = parseDuration(`${f}.heartbeat_interval`, b.heartbeat_interval);
  }
}

/** Reads a YAML config file over `config`; unknown fields and syntax errors name the field / say `yaml`. */
export function loadConfigFile(config: SpendOpsConfig, path: string): SpendOpsConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`config ${path}: ${(err as Error).message}`);
  }
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(`config ${path}: yaml: ${doc.errors[0].message.split('\n')[0]}`);
  }
  const raw = doc.toJS() as unknown;
  if (raw === null || raw === undefined) return config;
  try {
    return mergeRaw(config, expectObject('(root)', raw));
  } catch (err) {
    if (err instanceof ConfigError) throw new ConfigError(`config ${path}: ${err.message}`);
    throw err;
  }
}

/** Checks every field and names the first bad one. Provider definitions are checked by the provider registry. */
export function validateConfig(c: SpendOpsConfig): void {
  if (!/^[^\s:]*:\d{1,5}$/.test(c.addr) && !/^\[[0-9a-fA-F:]+\]:\d{1,5}$/.test(c.addr)) {
    throw new ConfigError(`addr: "${c.addr}" is not host:port`);
  }
  const port = Number(c.addr.slice(c.addr.lastIndexOf(':') + 1));
  if (port > 65535) throw new ConfigError(`addr: port ${port} is out of range`);
  if (!c.data_dir) throw new ConfigError('data_dir: must not be empty');
  if (c.admin_token && c.admin_token.length < 16) {
    throw new ConfigError('admin_token: must be at least 16 characters');
  }
  if (c.server_secret && !/^[0-9a-fA-F]{64,}$/.test(c.server_secret)) {
    throw new ConfigError('server_secret: must be hex, at least 32 bytes');
  }
  if (c.database_url && !/^postgres(ql)?:\/\//.test(c.database_url)) {
    throw new ConfigError('database_url: must be a postgres:// or postgresql:// URL');
  }
  if (c.amqp_url && !/^amqps?:\/\//.test(c.amqp_url)) {
    throw new ConfigError('amqp_url: must be an amqp:// or amqps:// URL');
  }
  if (!c.amqp_exchange) throw new ConfigError('amqp_exchange: must not be empty');
  if (c.services.length < SERVICE_NAMES.length && !c.amqp_url) {
    throw new ConfigError('services: running a subset of services needs SPENDOPS_AMQP_URL (amqp_url)');
  }
  if (c.services.length < SERVICE_NAMES.length && !c.database_url) {
    throw new ConfigError('services: running a subset of services needs DATABASE_URL (database_url)');
  }
  if (c.proxy.max_json_body <= 0) throw new ConfigError('proxy.max_json_body: must be positive');
  for (const [name, ms] of [
    ['proxy.connect_timeout', c.proxy.connect_timeout_ms],
    ['proxy.response_header_timeout', c.proxy.response_header_timeout_ms],
    ['proxy.drain_timeout', c.proxy.drain_timeout_ms],
  ] as const) {
    if (!(ms > 0)) throw new ConfigError(`${name}: must be a positive duration`);
  }
  if (c.capture.max_body_bytes < 4096) throw new ConfigError('capture.max_body_bytes: must be at least 4096');
  if (c.scheduling.background_nice < 0 || c.scheduling.background_nice > 19) {
    throw new ConfigError('scheduling.background_nice: must be 0 (off) to 19');
  }
  if (c.outbound.queue_size <= 0) throw new ConfigError('outbound.queue_size: must be positive');
  if (c.outbound.batch_size <= 0) throw new ConfigError('outbound.batch_size: must be positive');
  const be = c.budget_enforcement;
  if (be.default_max_output_tokens < 0) {
    throw new ConfigError('budget_enforcement.default_max_output_tokens: must not be negative');
  }
  if (be.prompt_bytes_per_token < 1) {
    throw new ConfigError('budget_enforcement.prompt_bytes_per_token: must be at least 1');
  }
  if (!(be.settle_timeout_ms > 0))
    throw new ConfigError('budget_enforcement.settle_timeout: must be positive');
  if (!(be.heartbeat_interval_ms >= 100)) {
    throw new ConfigError('budget_enforcement.heartbeat_interval: must be at least 100ms');
  }
  const ba = c.budget_alerts;
  if (ba.max_attempts < 1) throw new ConfigError('budget_alerts.max_attempts: must be at least 1');
  if (!(ba.retry_base_ms > 0)) throw new ConfigError('budget_alerts.retry_base: must be positive');
  if (!(ba.timeout_ms > 0)) throw new ConfigError('budget_alerts.timeout: must be positive');
  if (ba.smtp.host && !ba.smtp.from) {
    throw new ConfigError('budget_alerts.smtp.from: required when budget_alerts.smtp.host is set');
  }
  if (!['debug', 'info', 'warn', 'error'].includes(c.log.level)) {
    throw new ConfigError(`log.level: "${c.log.level}" is not debug, info, warn or error`);
  }
}

/** SMTP settings from the environment (the password belongs here rather than in a file). */
const SMTP_ENV: Record<string, string> = {
  SPENDOPS_SMTP_HOST: 'host',
  SPENDOPS_SMTP_PORT: 'port',
  SPENDOPS_SMTP_FROM: 'from',
  SPENDOPS_SMTP_USER: 'user',
  SPENDOPS_SMTP_PASSWORD: 'password',
};

/**
 * Environment variables in the config's shape: `SPENDOPS_<FIELD>` for top-level fields (plus `DATABASE_URL`),
 * `SPENDOPS_UPSTREAM_<PROVIDER>=URL` (upper case, `-` → `_`) for upstream overrides.
 */
export function configFromEnv(env: NodeJS.ProcessEnv, knownProviders: readonly string[]): Raw {
  const raw: Raw = {};
  const top: Record<string, string> = {
    SPENDOPS_ADDR: 'addr',
    SPENDOPS_DATA_DIR: 'data_dir',
    SPENDOPS_ENV: 'env',
    SPENDOPS_ADMIN_TOKEN: 'admin_token',
    SPENDOPS_SERVER_SECRET: 'server_secret',
    DATABASE_URL: 'database_url',
    SPENDOPS_DATABASE_URL: 'database_url',
    SPENDOPS_AMQP_URL: 'amqp_url',
    SPENDOPS_AMQP_EXCHANGE: 'amqp_exchange',
    SPENDOPS_SERVICES: 'services',
  };
  for (const [name, field] of Object.entries(top)) {
    const value = env[name];
    if (value !== undefined && value !== '') raw[field] = value;
  }
  if (env.SPENDOPS_LOG_LEVEL) raw.log = { level: env.SPENDOPS_LOG_LEVEL };
  if (env.SPENDOPS_CAPTURE_ENABLED) raw.capture = { enabled: env.SPENDOPS_CAPTURE_ENABLED };
  if (env.SPENDOPS_BACKGROUND_NICE) raw.scheduling = { background_nice: env.SPENDOPS_BACKGROUND_NICE };
  if (env.SPENDOPS_BUDGET_FAIL_CLOSED)
    raw.budget_enforcement = { fail_closed: env.SPENDOPS_BUDGET_FAIL_CLOSED };
  const smtp: Raw = {};
  for (const [name, field] of Object.entries(SMTP_ENV)) if (env[name]) smtp[field] = env[name];
  if (Object.keys(smtp).length > 0) raw.budget_alerts = { smtp };
  const upstreams: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('SPENDOPS_UPSTREAM_') || !value) continue;
    const suffix = name.slice('SPENDOPS_UPSTREAM_'.length);
    const provider =
      knownProviders.find((p) => p.toUpperCase().replace(/-/g, '_') === suffix) ??
      suffix.toLowerCase().replace(/_/g, '-');
    upstreams[provider] = value;
  }
  if (Object.keys(upstreams).length > 0) raw.upstreams = upstreams;
  return raw;
}

/** Parses repeated `--upstream NAME=URL` values. */
export function parseUpstreamFlags(values: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const value of values) {
    const eq = value.indexOf('=');
    if (eq <= 0 || eq === value.length - 1) {
      throw new ConfigError(`--upstream: "${value}" is not NAME=URL`);
    }
    out[value.slice(0, eq).trim()] = value.slice(eq + 1).trim();
  }
  return out;
}
