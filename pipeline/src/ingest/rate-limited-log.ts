import type { Logger } from '../telemetry/logger.js';

/**
 * Logs at most one line per key per interval, and says how many were suppressed in between:
 * a flood of garbage must show up in the logs without becoming a flood of logs.
 */
export class RateLimitedLog {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly logger: Logger,
    private readonly intervalMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  warn(key: string, fields: Record<string, unknown>, message: string): void {
    const t = this.now();
    const entry = this.last.get(key);
    if (entry && t - entry.at < this.intervalMs) {
      entry.suppressed += 1;
      return;
    }
    const suppressed = entry?.suppressed ?? 0;
    if (this.last.size > 10_000) this.last.clear(); // keys are bounded in practice; never grow without limit
    this.last.set(key, { at: t, suppressed: 0 });
    this.logger.warn(suppressed > 0 ? { ...fields, suppressed } : fields, message);
  }
}
