// The config file's `budgets:` list: read from YAML with the API's field names and defaults, and an invalid entry
// fails naming it (`budgets[1].amount_usd`).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, defaultConfig, loadConfigFile, mergeRaw } from './config';

const dir = mkdtempSync(join(tmpdir(), 'spendops-budgets-config-'));
let n = 0;
function load(yaml: string) {
  const file = join(dir, `c${++n}.yaml`);
  writeFileSync(file, yaml);
  return loadConfigFile(defaultConfig(), file);
}
function failure(yaml: string): string {
  try {
    load(yaml);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('config budgets:', () => {
  it('is empty by default and when absent', () => {
    expect(defaultConfig().budgets).toEqual([]);
    expect(load('addr: 127.0.0.1:9000\n').budgets).toEqual([]);
  });

  it('reads each entry with the API field names, filling the defaults', () => {
    const c = load(`
budgets:
  - name: search monthly
    scope: { tenant: acme, dims: { team: search } }
    period: month
    amount_usd: "250.00"
    enforce: true
    owner: finops@corp.example
    webhook_url: https://hooks.corp.example/spend
    slack_webhook_url: https://hooks.slack.com/services/T/B/X
    email: [finops@corp.example]
  - name: fiscal
    period: fiscal_month
    start_day: 15
    time_zone: Europe/Paris
    amount_usd: 1000
    thresholds: [80, 100, 110]
`);
    expect(c.budgets).toEqual([
      {
        name: 'search monthly',
        scope: { tenant: 'acme', dims: { team: 'search' } },
        period: 'month',
        time_zone: 'UTC',
        amount_usd: '250.00',
        thresholds: [50, 75, 90, 100],
        enforce: true,
        owner: 'finops@corp.example',
        webhook_url: 'https://hooks.corp.example/spend',
        slack_webhook_url: 'https://hooks.slack.com/services/T/B/X',
        email: ['finops@corp.example'],
      },
      expect.objectContaining({
        name: 'fiscal',
        period: 'fiscal_month',
        start_day: 15,
        time_zone: 'Europe/Paris',
        amount_usd: '1000',
        thresholds: [80, 100, 110],
        enforce: false,
      }),
    ]);
  });

  it.each([
    ['budgets: {name: x}', 'budgets: must be a list'],
    ['budgets: [7]', 'budgets[0]: must be a mapping'],
    [
      'budgets:\n  - {name: a, period: month, amount_usd: "1"}\n  - {name: b, period: month, amount_usd: "-5"}',
      'budgets[1].amount_usd:',
    ],
    ['budgets:\n  - {name: a, period: month}', 'budgets[0].amount_usd:'],
    ['budgets:\n  - {period: month, amount_usd: "1"}', 'budgets[0].name:'],
    ['budgets:\n  - {name: a, period: yearly, amount_usd: "1"}', 'budgets[0].period:'],
    ['budgets:\n  - {name: a, period: month, amount_usd: "1", scope: {team: x}}', 'budgets[0].scope.team:'],
    [
      'budgets:\n  - {name: a, period: month, amount_usd: "1", time_zone: Mars/Base}',
      'budgets[0].time_zone:',
    ],
    [
      'budgets:\n  - {name: a, period: custom, amount_usd: "1", from: "2027-02-01T00:00:00Z", to: "2027-01-01T00:00:00Z"}',
      'budgets[0].',
    ],
    [
      'budgets:\n  - {name: a, period: month, amount_usd: "1", thresholds: [90, 50]}',
      'budgets[0].thresholds[1]:',
    ],
    ['budgets:\n  - {name: a, period: month, amount_usd: "1", colour: red}', 'budgets[0].colour:'],
    [
      'budgets:\n  - {name: a, period: month, amount_usd: "1"}\n  - {name: a, period: day, amount_usd: "2"}',
      'budgets[1].name: "a" is already the name of budgets[0]',
    ],
  ])('refuses %j naming %s', (yaml, message) => {
    expect(failure(yaml)).toContain(message);
  });

  it('is read from the complete example file', () => {
    const c = loadConfigFile(defaultConfig(), join(__dirname, 'fixtures', 'complete.good.yaml'));
    expect(c.budgets).toEqual([
      expect.objectContaining({
        name: 'search monthly',
        amount_usd: '500.00',
        enforce: true,
        thresholds: [50, 90, 100],
      }),
    ]);
  });

  it('keeps the file budgets when later layers (environment, flags) merge over the config', () => {
    const c = load('budgets:\n  - {name: a, period: day, amount_usd: "3"}\n');
    expect(mergeRaw(c, { addr: '127.0.0.1:1' }).budgets.map((b) => b.name)).toEqual(['a']);
  });
});
