import { join } from 'node:path';
import { loadConfig } from './load-config';
import { knownProviderNames } from '../serve/providers';

const fixtures = join(__dirname, '..', '..', '..', '..', 'libs', 'config', 'src', 'fixtures');

describe('loadConfig', () => {
  // The reference's provider rows of the bad-file table: each error names the field.
  it.each([
    ['upstream-unknown', 'nosuch'],
    ['upstream-scheme', 'openai'],
    ['provider-name', 'providers[0].name'],
    ['provider-dialect', 'providers[0].dialect'],
    ['provider-alias', 'providers[0].name'],
  ])('%s.bad.yaml names %s', (name, field) => {
    expect(() =>
      loadConfig({ config: join(fixtures, `${name}.bad.yaml`) }, {}, knownProviderNames()),
    ).toThrow(field);
  });

  it('takes flags over environment over file over defaults', () => {
    const file = join(fixtures, 'complete.good.yaml');
    const env = { SPENDOPS_ADDR: '127.0.0.1:9001', SPENDOPS_UPSTREAM_OPENAI: 'http://127.0.0.1:1' };
    const fromEnv = loadConfig({ config: file }, env, knownProviderNames());
    expect(fromEnv.addr).toBe('127.0.0.1:9001');
    expect(fromEnv.data_dir).toBe('/var/lib/spendops');
    expect(fromEnv.upstreams.openai).toBe('http://127.0.0.1:1');
    const fromFlags = loadConfig(
      { config: file, addr: '127.0.0.1:9002', upstream: ['openai=http://127.0.0.1:2'] },
      env,
      knownProviderNames(),
    );
    expect(fromFlags.addr).toBe('127.0.0.1:9002');
    expect(fromFlags.upstreams.openai).toBe('http://127.0.0.1:2');
    expect(loadConfig({}, {}, knownProviderNames()).addr).toBe('127.0.0.1:8080');
  });

  it('reads the config file path from SPENDOPS_CONFIG', () => {
    const c = loadConfig({}, { SPENDOPS_CONFIG: join(fixtures, 'complete.good.yaml') }, knownProviderNames());
    expect(c.env).toBe('prod');
  });
});
