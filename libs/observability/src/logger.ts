// Structured JSON logs, one object per line on stdout. Callers pass facts (ids, statuses, durations), never
// credentials, prompts or completions.
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const order: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export class JsonLogger {
  private static minimum: LogLevel =
    (process.env.SPENDOPS_LOG_LEVEL as LogLevel) in order
      ? (process.env.SPENDOPS_LOG_LEVEL as LogLevel)
      : 'info';
  private static sink: (line: string) => void = (line) => process.stdout.write(line);

  constructor(private readonly component: string) {}

  static setLevel(level: LogLevel): void {
    JsonLogger.minimum = level;
  }

  /** Tests capture lines here. */
  static setSink(sink: (line: string) => void): void {
    JsonLogger.sink = sink;
  }

  debug(msg: string, fields: Record<string, unknown> = {}): void {
    this.write('debug', msg, fields);
  }
  info(msg: string, fields: Record<string, unknown> = {}): void {
    this.write('info', msg, fields);
  }
  warn(msg: string, fields: Record<string, unknown> = {}): void {
    this.write('warn', msg, fields);
  }
  error(msg: string, fields: Record<string, unknown> = {}): void {
    this.write('error', msg, fields);
  }

  private write(level: LogLevel, msg: string, fields: Record<string, unknown>): void {
    if (order[level] < order[JsonLogger.minimum]) return;
    const line = JSON.stringify({
      ts: new Date().toISOString(),
      level,
      component: this.component,
      msg,
      ...fields,
    });
    JsonLogger.sink(`${line}\n`);
  }
}
