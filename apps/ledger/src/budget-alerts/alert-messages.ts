// The bodies of each channel, built from the BudgetAlertV1 fields.
import type { BudgetAlertV1 } from '@spendops/contracts';

/** The webhook (and bus) body, fields in the contract's order. */
export function alertBody(a: BudgetAlertV1): BudgetAlertV1 {
  return {
    budget_id: a.budget_id,
    name: a.name,
    threshold: a.threshold,
    spent_usd: a.spent_usd,
    amount_usd: a.amount_usd,
    period_start: a.period_start,
    crossed_at: a.crossed_at,
  };
}

export function webhookRawBody(a: BudgetAlertV1): string {
  return JSON.stringify(alertBody(a));
}

function headline(a: BudgetAlertV1): string {
  return `Budget "${a.name}" crossed ${a.threshold}% of its amount`;
}

/** Slack incoming-webhook message: `text` (notifications, fallback) and blocks for the channel. */
export function slackMessage(a: BudgetAlertV1): {
  text: string;
  blocks: Record<string, unknown>[];
} {
  const name = slackEscape(a.name);
  return {
    text: `SpendOps: ${slackEscape(headline(a))}: spent $${a.spent_usd} of $${a.amount_usd}`,
    blocks: [
      {
        type: 'header',
        text: { type: 'plain_text', text: `Budget ${a.threshold}% reached: ${a.name}`.slice(0, 150) },
      },
      {
        type: 'section',
        fields: [
          { type: 'mrkdwn', text: `*Budget*\n${name}` },
          { type: 'mrkdwn', text: `*Threshold*\n${a.threshold}%` },
          { type: 'mrkdwn', text: `*Spent*\n$${a.spent_usd}` },
          { type: 'mrkdwn', text: `*Amount*\n$${a.amount_usd}` },
        ],
      },
      {
        type: 'context',
        elements: [
          {
            type: 'mrkdwn',
            text: `${a.budget_id} · period from ${a.period_start} · crossed at ${a.crossed_at}`,
          },
        ],
      },
    ],
  };
}

/** Slack mrkdwn control characters (https://api.slack.com/reference/surfaces/formatting#escaping). */
function slackEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function emailMessage(a: BudgetAlertV1): { subject: string; text: string } {
  const subject = `[SpendOps] ${headline(a)} ($${a.spent_usd} of $${a.amount_usd})`.replace(/[\r\n]+/g, ' ');
  const text = [
    `${headline(a)}.`,
    '',
    `Budget:     ${a.name} (${a.budget_id})`,
    `Threshold:  ${a.threshold}%`,
    `Spent:      $${a.spent_usd}`,
    `Amount:     $${a.amount_usd}`,
    `Period:     from ${a.period_start}`,
    `Crossed at: ${a.crossed_at}`,
    '',
    '-- SpendOps budget alerts',
  ].join('\n');
  return { subject, text };
}
