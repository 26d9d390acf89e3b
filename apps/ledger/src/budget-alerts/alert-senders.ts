// Sends one delivery over its channel. Resolves when the receiver accepted it; throws DeliveryError otherwise
// (its message is stored as last_error, so it never carries secrets or the target's path).
import { Inject, Injectable } from '@nestjs/common';
import { createTransport, type Transporter } from 'nodemailer';
import { request } from 'undici';
import { Topics } from '@spendops/contracts';
import { MESSAGE_BUS, type MessageBus } from '@spendops/messaging';
import { scrubTarget } from './alert-channels';
import type { ClaimedDelivery } from './alert-delivery.store';
import { AlertDeliveryStore } from './alert-delivery.store';
import { alertBody, emailMessage, slackMessage, webhookRawBody } from './alert-messages';
import { BUDGET_ALERTS_OPTIONS, type ResolvedBudgetAlertsOptions } from './budget-alerts.options';
import { webhookHeaders } from './webhook-signature';

export class DeliveryError extends Error {
  /** permanent: retrying cannot help (e.g. SMTP not configured); the delivery fails at once. */
  constructor(
    message: string,
    readonly permanent = false,
  ) {
    super(message);
    this.name = 'DeliveryError';
  }
}

const MAX_ERROR_BODY = 200;

@Injectable()
export class AlertSenders {
  private mailer: Transporter | null = null;

  constructor(
    @Inject(BUDGET_ALERTS_OPTIONS) private readonly options: ResolvedBudgetAlertsOptions,
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    private readonly store: AlertDeliveryStore,
  ) {}

  async send(d: ClaimedDelivery): Promise<void> {
    try {
      switch (d.channel) {
        case 'webhook':
          return await this.webhook(d);
        case 'slack':
          return await this.post(d.target, JSON.stringify(slackMessage(d.alert)), {
            'content-type': 'application/json',
          });
        case 'email':
          return await this.withinTimeout(this.email(d));
        case 'bus':
          // Resolves on the broker's confirm; the event id lets consumers drop a re-publish.
          return await this.withinTimeout(
            this.bus.publish(Topics.budgetAlert, alertBody(d.alert), { messageId: d.event_id }),
          );
      }
    } catch (err) {
      if (err instanceof DeliveryError) throw err;
      throw new DeliveryError(scrubTarget(describe(err), d.target));
    }
  }

  /**
   * An attempt ends within the timeout whatever the transport does, so its outcome is recorded well inside the
   * lease (a send still running past the lease could be repeated by another worker).
   */
  private async withinTimeout(send: Promise<void>): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new DeliveryError(`no answer within ${this.options.timeoutMs} ms`)),
        this.options.timeoutMs,
      );
    });
    try {
      await Promise.race([send, deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Closes the SMTP connection pool (the worker calls it once its sends are over). */
  close(): void {
    this.mailer?.close();
    this.mailer = null;
  }

  private async webhook(d: ClaimedDelivery): Promise<void> {
    // Read per attempt: a budget whose secret is stored a moment after its crossing is still signed.
    const secret = await this.store.webhookSecret(d.alert.budget_id);
    if (!secret) throw new DeliveryError('no webhook secret is stored for this budget');
    const body = webhookRawBody(d.alert);
    await this.post(d.target, body, webhookHeaders(secret, body, d.event_id));
  }

  private async post(url: string, body: string, headers: Record<string, string>): Promise<void> {
    const timeout = this.options.timeoutMs;
    const res = await request(url, {
      method: 'POST',
      body,
      headers,
      headersTimeout: timeout,
      bodyTimeout: timeout,
      signal: AbortSignal.timeout(timeout),
    });
    const text = await res.body.text().catch(() => '');
    if (res.statusCode >= 200 && res.statusCode < 300) return;
    const snippet = text.replace(/\s+/g, ' ').trim().slice(0, MAX_ERROR_BODY);
    throw new DeliveryError(`HTTP ${res.statusCode}${snippet ? `: ${scrubTarget(snippet, url)}` : ''}`);
  }

  private async email(d: ClaimedDelivery): Promise<void> {
    const smtp = this.options.smtp;
    if (!smtp)
      throw new DeliveryError('SMTP is not configured (budget alerts need smtp.host/port/from)', true);
    this.mailer ??= createTransport({
      host: smtp.host,
      port: smtp.port,
      secure: smtp.secure ?? false,
      ignoreTLS: smtp.ignoreTLS ?? false,
      requireTLS: smtp.requireTLS ?? false,
      auth: smtp.auth,
      connectionTimeout: this.options.timeoutMs,
      greetingTimeout: this.options.timeoutMs,
      socketTimeout: this.options.timeoutMs,
    });
    const { subject, text } = emailMessage(d.alert);
    await this.mailer.sendMail({
      from: smtp.from,
      to: d.target,
      subject,
      text,
      headers: { 'X-SpendOps-Event-Id': d.event_id },
    });
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    const message = err.message || err.name;
    return typeof code === 'string' && !message.includes(code) ? `${code}: ${message}` : message;
  }
  return String(err);
}
