// Which deliveries a crossing gets, from the budget's latest definition, and how a target is shown.
import { Topics, type BudgetAlertDelivery, type BudgetRecord } from '@spendops/contracts';

export type AlertChannel = BudgetAlertDelivery['channel'];

export interface DeliveryTarget {
  channel: AlertChannel;
  /** URL, email address, or the bus topic. */
  target: string;
}

/** Every configured channel of the budget, plus the bus (always: queue integrations rely on it). */
export function deliveryTargets(budget: BudgetRecord | null): DeliveryTarget[] {
  const out: DeliveryTarget[] = [];
  if (budget?.webhook_url) out.push({ channel: 'webhook', target: budget.webhook_url });
  if (budget?.slack_webhook_url) out.push({ channel: 'slack', target: budget.slack_webhook_url });
  for (const address of new Set((budget?.email ?? []).map((a) => a.trim()).filter(Boolean)))
    out.push({ channel: 'email', target: address });
  out.push({ channel: 'bus', target: Topics.budgetAlert });
  return out;
}

/**
 * The target as the API shows it, without secrets: a webhook URL loses its credentials, query and fragment; a
 * Slack incoming-webhook URL keeps only its origin (its path is the credential).
 */
export function displayTarget(channel: AlertChannel, target: string): string {
  if (channel !== 'webhook' && channel !== 'slack') return target;
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return '(invalid URL)';
  }
  return channel === 'slack' ? `${url.origin}/…` : `${url.origin}${url.pathname}`;
}

/** Removes the target URL (and its path) from an error text, should a transport quote it. */
export function scrubTarget(message: string, target: string): string {
  let out = message.split(target).join('<target>');
  try {
    const { pathname } = new URL(target);
    if (pathname.length > 1) out = out.split(pathname).join('<path>');
  } catch {
    // not a URL (an address or topic): nothing more to hide
  }
  return out;
}
