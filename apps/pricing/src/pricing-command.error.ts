/** A command failed for a reason the caller can fix (the admin API maps it to 400/404). */
export class PricingCommandError extends Error {
  constructor(
    message: string,
    readonly status: 400 | 404,
  ) {
    super(message);
    this.name = 'PricingCommandError';
  }
}
