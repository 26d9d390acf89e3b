// The pure parts of alert delivery: signatures, message bodies, targets and their redaction, retry delays.
import { createHmac } from 'node:crypto';
import { Topics, type BudgetAlertV1 } from '@spendops/contracts';
import { deliveryTargets, displayTarget, scrubTarget } from './alert-channels';
import { emailMessage, webhookRawBody } from './alert-messages';
import { resolveBudgetAlertsOptions, retryDelayMs } from './budget-alerts.options';
import { budgetRecord } from './budget-alerts.test-support';
import { signBody, signTimestamped, verifySignature, webhookHeaders } from './webhook-signature';

const alert: BudgetAlertV1 = {
  budget_id: 'bud_0123456789abcdef',
  name: 'Search team',
  threshold: 75,
  spent_usd: '75.000001',
  amount_usd: '100',
  period_start: '2026-12-01T00:00:00.000Z',
  crossed_at: '2026-12-02T08:00:00.000Z',
};

describe('webhook signature', () => {
  it('is the hex HMAC-SHA-256 of the raw body (the well-known "quick brown fox" HMAC example)', () => {
    expect(signBody('key', 'The quick brown fox jumps over the lazy dog')).toBe(
      'sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8',
    );
  });

  it('V2 signs "<timestamp>.<body>"', () => {
    const expected = createHmac('sha256', 's').update('1700000000.{"a":1}').digest('hex');
    expect(signTimestamped('s', '1700000000', '{"a":1}')).toBe(`sha256=${expected}`);
  });

  it('headers carry both signatures, the timestamp in seconds and the event id', () => {
    const body = webhookRawBody(alert);
    const h = webhookHeaders('sec', body, 'evt-1', new Date(1_700_000_000_999));
    expect(h).toEqual({
      'content-type': 'application/json',
      'user-agent': 'SpendOps-Budget-Alerts/1',
      'x-spendops-signature': signBody('sec', body),
      'x-spendops-timestamp': '1700000000',
      'x-spendops-signature-v2': signTimestamped('sec', '1700000000', body),
      'x-spendops-event-id': 'evt-1',
    });
  });

  it('verifies only the exact body under the exact secret', () => {
    const body = webhookRawBody(alert);
    const sig = signBody('sec', body);
    expect(verifySignature('sec', body, sig)).toBe(true);
    expect(verifySignature('sec', Buffer.from(body), sig)).toBe(true);
    expect(verifySignature('sec', `${body} `, sig)).toBe(false);
    expect(verifySignature('other', body, sig)).toBe(false);
    expect(verifySignature('sec', body, undefined)).toBe(false);
    expect(verifySignature('sec', body, sig.slice(0, -1))).toBe(false);
  });
});

it('the webhook body has exactly the contract fields, decimal strings verbatim', () => {
  expect(webhookRawBody({ ...alert, extra: 'x' } as BudgetAlertV1)).toBe(
    '{"budget_id":"bud_0123456789abcdef","name":"Search team","threshold":75,"spent_usd":"75.000001",' +
      '"amount_usd":"100","period_start":"2026-12-01T00:00:00.000Z","crossed_at":"2026-12-02T08:00:00.000Z"}',
  );
});

it('an email subject cannot carry a header break from the budget name', () => {
  const { subject } = emailMessage({ ...alert, name: 'evil\r\nBcc: all@corp.example' });
  expect(subject).not.toMatch(/[\r\n]/);
  expect(subject).toContain('evil Bcc: all@corp.example');
});

describe('delivery targets', () => {
  it('one per configured channel and distinct address, and always the bus', () => {
    const budget = budgetRecord('bud_0000000000000001', {
      webhook_url: 'https://hooks.example/a',
      slack_webhook_url: 'https://hooks.slack.com/services/T/B/x',
      email: [' a@x.example ', 'b@x.example', 'a@x.example', ''],
    });
    expect(deliveryTargets(budget)).toEqual([
      { channel: 'webhook', target: 'https://hooks.example/a' },
      { channel: 'slack', target: 'https://hooks.slack.com/services/T/B/x' },
      { channel: 'email', target: 'a@x.example' },
      { channel: 'email', target: 'b@x.example' },
      { channel: 'bus', target: Topics.budgetAlert },
    ]);
  });

  it('a budget whose definition is unknown still goes out on the bus', () => {
    expect(deliveryTargets(null)).toEqual([{ channel: 'bus', target: Topics.budgetAlert }]);
  });

  it.each([
    [
      'webhook',
      'https://user:pw@hooks.example:8443/path/x?token=abc#frag',
      'https://hooks.example:8443/path/x',
    ],
    ['slack', 'https://hooks.slack.com/services/T0/B0/SECRET', 'https://hooks.slack.com/…'],
    ['webhook', 'not a url', '(invalid URL)'],
    ['email', 'a@x.example', 'a@x.example'],
    ['bus', Topics.budgetAlert, Topics.budgetAlert],
  ] as const)('%s %s is shown as %s', (channel, target, shown) => {
    expect(displayTarget(channel, target)).toBe(shown);
  });

  it('errors lose the target URL and its path', () => {
    const target = 'https://hooks.slack.com/services/T0/B0/SECRET';
    expect(scrubTarget(`failed ${target} and /services/T0/B0/SECRET`, target)).toBe(
      'failed <target> and <path>',
    );
    expect(scrubTarget('connect ECONNREFUSED 127.0.0.1:1', 'a@x.example')).toBe(
      'connect ECONNREFUSED 127.0.0.1:1',
    );
  });
});

describe('retry delay', () => {
  const o = { backoffBaseMs: 1000, backoffMaxMs: 60_000 };

  it('doubles per attempt, between half and all of base × 2^(attempt−1)', () => {
    expect([1, 2, 3, 4].map((a) => retryDelayMs(a, o, () => 0))).toEqual([500, 1000, 2000, 4000]);
    expect([1, 2, 3, 4].map((a) => retryDelayMs(a, o, () => 1))).toEqual([1000, 2000, 4000, 8000]);
  });

  it('is capped at the maximum', () => {
    expect(retryDelayMs(30, o, () => 1)).toBe(60_000);
    expect(retryDelayMs(30, o, () => 0)).toBe(30_000);
  });

  it('defaults: 8 attempts, 5 s base, lease beyond the timeout', () => {
    const d = resolveBudgetAlertsOptions();
    expect(d).toMatchObject({ maxAttempts: 8, backoffBaseMs: 5000, timeoutMs: 10_000, leaseMs: 40_000 });
  });
});
