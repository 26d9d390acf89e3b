// Settings of alert delivery. Defaults suit production; specs shorten the backoff and timeouts.

export interface SmtpOptions {
  host: string;
  port: number;
  /** `From:` of alert emails, e.g. `SpendOps <alerts@corp.example>`. */
  from: string;
  /** TLS from the first byte (port 465). Otherwise STARTTLS is used when the server offers it. */
  secure?: boolean;
  /** Never upgrade with STARTTLS (a plain local relay or test sink). */
  ignoreTLS?: boolean;
  /** Refuse to send unless the server upgrades with STARTTLS. */
  requireTLS?: boolean;
  auth?: { user: string; pass: string };
}

export interface BudgetAlertsOptions {
  /** Without it, email deliveries fail at once with an error saying SMTP is not configured. */
  smtp?: SmtpOptions;
  /** Attempts per delivery before it is `failed` (default 8). */
  maxAttempts?: number;
  /**
   * First retry delay; doubles per attempt, with jitter (default 5 s: with 8 attempts a receiver gets about 5–10
   * minutes to come back before the delivery is `failed`).
   */
  backoffBaseMs?: number;
  /** Longest retry delay (default 15 min). */
  backoffMaxMs?: number;
  /** HTTP and SMTP timeout per attempt (default 10 s). */
  timeoutMs?: number;
  /**
   * How long a claimed delivery stays with its worker before another may take it (a worker that died mid-send).
   * Default: timeoutMs + 30 s.
   */
  leaseMs?: number;
  /** Fallback poll when no wake-up arrives (default 1 s). */
  pollMs?: number;
  /** Deliveries claimed (and sent concurrently) per pass (default 20). */
  batchSize?: number;
  /** LISTEN for the projection's NOTIFY (default true). */
  listen?: boolean;
  /** Start the worker at application bootstrap (default true). */
  autoStart?: boolean;
}

export type ResolvedBudgetAlertsOptions = Required<Omit<BudgetAlertsOptions, 'smtp'>> & {
  smtp?: SmtpOptions;
};

export const BUDGET_ALERTS_OPTIONS = Symbol('BUDGET_ALERTS_OPTIONS');

export function resolveBudgetAlertsOptions(options: BudgetAlertsOptions = {}): ResolvedBudgetAlertsOptions {
  const timeoutMs = options.timeoutMs ?? 10_000;
  return {
    smtp: options.smtp,
    maxAttempts: options.maxAttempts ?? 8,
    backoffBaseMs: options.backoffBaseMs ?? 5_000,
    backoffMaxMs: options.backoffMaxMs ?? 15 * 60_000,
    timeoutMs,
    leaseMs: options.leaseMs ?? timeoutMs + 30_000,
    pollMs: options.pollMs ?? 1_000,
    batchSize: options.batchSize ?? 20,
    listen: options.listen ?? true,
    autoStart: options.autoStart ?? true,
  };
}

/**
 * Delay before the retry that follows attempt `attempt` (1-based): base × 2^(attempt−1), capped, then "equal
 * jitter" (half fixed, half random) so receivers that failed together are not retried together.
 */
export function retryDelayMs(
  attempt: number,
  options: Pick<ResolvedBudgetAlertsOptions, 'backoffBaseMs' | 'backoffMaxMs'>,
  random: () => number = Math.random,
): number {
  const exp = Math.min(options.backoffMaxMs, options.backoffBaseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exp / 2 + (exp / 2) * random());
}
