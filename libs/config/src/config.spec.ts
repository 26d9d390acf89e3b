import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  ConfigError,
  configFromEnv,
  defaultConfig,
  loadConfigFile,
  mergeRaw,
  parseDuration,
  parseUpstreamFlags,
  validateConfig,
} from './config';

const fixtures = join(__dirname, 'fixtures');
const load = (name: string) => {
  const c = loadConfigFile(defaultConfig(), join(fixtures, name));
  validateConfig(c);
  return c;
};

describe('config files', () => {
  it('loads every good file', () => {
    const good = readdirSync(fixtures).filter((f) => f.endsWith('.good.yaml'));
    expect(good.length).toBeGreaterThanOrEqual(2);
    for (const f of good) expect(() => load(f)).not.toThrow();
  });

  it('reads every field of the complete file', () => {
    const c = load('complete.good.yaml');
    expect(c.proxy.response_header_timeout_ms).toBe(15 * 60_000);
    expect(c.proxy.connect_timeout_ms).toBe(5000);
    expect(c.proxy.drain_timeout_ms).toBe(60_000);
    expect(c.log).toEqual({ level: 'debug', access: false });
    expect(c.providers).toHaveLength(3);
    expect(c.providers[0]).toEqual({
      name: 'azure-east',
      base_url: 'https://myco.openai.azure.com/openai',
      dialect: 'openai-compatible',
      inject_stream_usage: true,
    });
    expect(c.upstreams['google-ai-studio']).toBe('https://europe-gemini.example');
    expect(c.services).toEqual(['proxy', 'auth']);
    expect(c.outbound).toEqual({ queue_size: 50000, batch_size: 1000, spool_dir: '/var/lib/spendops/spool' });
  });

  it('keeps the defaults for an empty file', () => {
    expect(load('empty.good.yaml')).toEqual(defaultConfig());
  });

  // Each bad file fails with an error naming the field (provider files are checked by the provider registry).
  const want: Record<string, string> = {
    'unknown-field': 'adress',
    addr: 'addr',
    duration: 'soon',
    'negative-drain': 'proxy.drain_timeout',
    'log-level': 'log.level',
    'admin-token': 'admin_token',
    queue: 'outbound.queue_size',
    syntax: 'yaml',
    services: 'services',
    'database-url': 'database_url',
  };
  it.each(Object.entries(want))('%s.bad.yaml names %s', (name, field) => {
    let error: unknown;
    try {
      load(`${name}.bad.yaml`);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(field);
  });

  it('says which file is missing', () => {
    expect(() => loadConfigFile(defaultConfig(), join(fixtures, 'missing.yaml'))).toThrow(/missing\.yaml/);
  });
});

describe('durations', () => {
  it.each([
    ['10s', 10_000],
    ['5m', 300_000],
    ['1h30m', 5_400_000],
    ['250ms', 250],
    ['1.5s', 1500],
  ])('%s = %d ms', (text, ms) => expect(parseDuration('f', text)).toBe(ms));
  it.each(['soon', '10', '', 's', '10 s'])('%p is refused', (text) =>
    expect(() => parseDuration('proxy.x', text)).toThrow(/proxy\.x/),
  );
});

describe('environment and flags', () => {
  it('maps SPENDOPS_* and DATABASE_URL onto fields', () => {
    const raw = configFromEnv(
      {
        SPENDOPS_ADDR: '0.0.0.0:9000',
        SPENDOPS_DATA_DIR: '/d',
        DATABASE_URL: 'postgres://x/y',
        SPENDOPS_AMQP_URL: 'amqp://r',
        SPENDOPS_UPSTREAM_OPENAI: 'http://127.0.0.1:1',
        SPENDOPS_UPSTREAM_GOOGLE_AI_STUDIO: 'http://127.0.0.1:2',
        SPENDOPS_UPSTREAM_MY_VLLM: 'http://127.0.0.1:3',
        SPENDOPS_LOG_LEVEL: 'warn',
      },
      ['openai', 'google-ai-studio'],
    );
    const c = mergeRaw(defaultConfig(), raw);
    expect(c.addr).toBe('0.0.0.0:9000');
    expect(c.data_dir).toBe('/d');
    expect(c.database_url).toBe('postgres://x/y');
    expect(c.amqp_url).toBe('amqp://r');
    expect(c.log.level).toBe('warn');
    expect(c.upstreams).toEqual({
      openai: 'http://127.0.0.1:1',
      'google-ai-studio': 'http://127.0.0.1:2',
      'my-vllm': 'http://127.0.0.1:3',
    });
  });

  it('parses --upstream NAME=URL and refuses other shapes', () => {
    expect(parseUpstreamFlags(['openai=http://a', 'anthropic=http://b?x=1'])).toEqual({
      openai: 'http://a',
      anthropic: 'http://b?x=1',
    });
    for (const bad of ['openai', '=http://a', 'openai=']) {
      expect(() => parseUpstreamFlags([bad])).toThrow(/--upstream/);
    }
  });

  it('needs a broker and a shared database to run a subset of services', () => {
    const subset = mergeRaw(defaultConfig(), { services: 'proxy' });
    expect(() => validateConfig(subset)).toThrow(/SPENDOPS_AMQP_URL/);
    const withBus = mergeRaw(subset, { amqp_url: 'amqp://x' });
    expect(() => validateConfig(withBus)).toThrow(/DATABASE_URL/);
    expect(() => validateConfig(mergeRaw(withBus, { database_url: 'postgres://x/y' }))).not.toThrow();
  });

  it('refuses a malformed server secret', () => {
    expect(() => validateConfig(mergeRaw(defaultConfig(), { server_secret: 'abc' }))).toThrow(
      /server_secret/,
    );
  });
});

describe('budget_enforcement', () => {
  it('is read from the complete file', () => {
    expect(load('complete.good.yaml').budget_enforcement).toEqual({
      fail_closed: true,
      default_max_output_tokens: 2048,
      prompt_bytes_per_token: 2,
      settle_timeout_ms: 300_000,
      heartbeat_interval_ms: 500,
    });
  });

  it('defaults to fail-open with a 4096-token output reservation', () => {
    expect(defaultConfig().budget_enforcement).toEqual({
      fail_closed: false,
      default_max_output_tokens: 4096,
      prompt_bytes_per_token: 1,
      settle_timeout_ms: 600_000,
      heartbeat_interval_ms: 1000,
    });
  });

  it('reads its fields and the SPENDOPS_BUDGET_FAIL_CLOSED variable, naming a bad field', () => {
    const c = mergeRaw(defaultConfig(), {
      budget_enforcement: {
        fail_closed: true,
        default_max_output_tokens: 1000,
        prompt_bytes_per_token: 2,
        settle_timeout: '2m',
        heartbeat_interval: '500ms',
      },
    });
    expect(() => validateConfig(c)).not.toThrow();
    expect(c.budget_enforcement).toEqual({
      fail_closed: true,
      default_max_output_tokens: 1000,
      prompt_bytes_per_token: 2,
      settle_timeout_ms: 120_000,
      heartbeat_interval_ms: 500,
    });
    const env = mergeRaw(defaultConfig(), configFromEnv({ SPENDOPS_BUDGET_FAIL_CLOSED: 'true' }, []));
    expect(env.budget_enforcement.fail_closed).toBe(true);
    expect(() => mergeRaw(defaultConfig(), { budget_enforcement: { fail_open: true } })).toThrow(
      /budget_enforcement\.fail_open: unknown field/,
    );
    expect(() =>
      validateConfig(mergeRaw(defaultConfig(), { budget_enforcement: { prompt_bytes_per_token: 0 } })),
    ).toThrow(/budget_enforcement\.prompt_bytes_per_token/);
    expect(() =>
      validateConfig(mergeRaw(defaultConfig(), { budget_enforcement: { heartbeat_interval: '10ms' } })),
    ).toThrow(/budget_enforcement\.heartbeat_interval/);
  });
});

describe('budget_alerts', () => {
  it('has no SMTP by default and 8 attempts from a 5 s base', () => {
    expect(defaultConfig().budget_alerts).toEqual({
      smtp: { host: '', port: 587, from: '', secure: false, require_tls: false, user: '', password: '' },
      max_attempts: 8,
      retry_base_ms: 5000,
      timeout_ms: 10_000,
    });
  });

  it('reads the file fields, then SPENDOPS_SMTP_* over them, naming a bad field', () => {
    const file = mergeRaw(defaultConfig(), {
      budget_alerts: {
        smtp: { host: 'smtp.corp.example', port: 465, from: 'spend@corp.example', secure: true, user: 'u' },
        max_attempts: 3,
        retry_base: '2s',
        timeout: '5s',
      },
    });
    const c = mergeRaw(file, configFromEnv({ SPENDOPS_SMTP_PASSWORD: 'pw', SPENDOPS_SMTP_PORT: '2525' }, []));
    expect(() => validateConfig(c)).not.toThrow();
    expect(c.budget_alerts).toEqual({
      smtp: {
        host: 'smtp.corp.example',
        port: 2525,
        from: 'spend@corp.example',
        secure: true,
        require_tls: false,
        user: 'u',
        password: 'pw',
      },
      max_attempts: 3,
      retry_base_ms: 2000,
      timeout_ms: 5000,
    });
    expect(() => mergeRaw(defaultConfig(), { budget_alerts: { smtp: { hostname: 'x' } } })).toThrow(
      /budget_alerts\.smtp\.hostname: unknown field/,
    );
    expect(() =>
      validateConfig(mergeRaw(defaultConfig(), { budget_alerts: { smtp: { host: 'smtp.corp.example' } } })),
    ).toThrow(/budget_alerts\.smtp\.from: required/);
    expect(() => validateConfig(mergeRaw(defaultConfig(), { budget_alerts: { max_attempts: 0 } }))).toThrow(
      /budget_alerts\.max_attempts/,
    );
  });
});

describe('capture.enabled', () => {
  it('is on by default, and turned off by the file field or SPENDOPS_CAPTURE_ENABLED=false', () => {
    expect(defaultConfig().capture.enabled).toBe(true);
    expect(mergeRaw(defaultConfig(), { capture: { enabled: false } }).capture).toEqual({
      max_body_bytes: 4 << 20,
      enabled: false,
    });
    const env = mergeRaw(defaultConfig(), configFromEnv({ SPENDOPS_CAPTURE_ENABLED: 'false' }, []));
    expect(env.capture.enabled).toBe(false);
    expect(() => mergeRaw(defaultConfig(), { capture: { enabled: 'sometimes' } })).toThrow(
      /capture\.enabled/,
    );
  });
});

describe('scheduling.background_nice', () => {
  it('is 10 by default, set by the file field or SPENDOPS_BACKGROUND_NICE, 0 turning it off', () => {
    expect(defaultConfig().scheduling.background_nice).toBe(10);
    expect(mergeRaw(defaultConfig(), { scheduling: { background_nice: 0 } }).scheduling).toEqual({
      background_nice: 0,
    });
    const env = mergeRaw(defaultConfig(), configFromEnv({ SPENDOPS_BACKGROUND_NICE: '15' }, []));
    expect(env.scheduling.background_nice).toBe(15);
  });

  it('refuses what is not a nice level, naming the field', () => {
    expect(() => mergeRaw(defaultConfig(), { scheduling: { background_nice: 'low' } })).toThrow(
      /scheduling\.background_nice: must be an integer/,
    );
    for (const bad of [-1, 20]) {
      const c = mergeRaw(defaultConfig(), { scheduling: { background_nice: bad } });
      expect(() => validateConfig(c)).toThrow(/scheduling\.background_nice: must be 0 \(off\) to 19/);
    }
    expect(() => mergeRaw(defaultConfig(), { scheduling: { nice: 5 } })).toThrow(
      /scheduling\.nice: unknown field/,
    );
  });
});
