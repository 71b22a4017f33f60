/**
 * A keyed, de-duplicating work queue with per-key exponential backoff (client-go workqueue
 * semantics): a key is queued at most once, never processed by two workers at once, and a key
 * added while it is being processed runs again right after. Timers are injectable for tests.
 */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realTimers: Timers = {
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export class WorkQueue {
  private readonly ready: string[] = [];
  private readonly queued = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly delayed = new Map<string, { at: number; handle: unknown }>();
  private readonly failures = new Map<string, number>();
  private readonly waiters: Array<(key: string | undefined) => void> = [];
  private closed = false;

  constructor(
    private readonly options: { baseDelayMs?: number; maxDelayMs?: number; timers?: Timers; now?: () => number } = {},
  ) {}

  private get timers(): Timers {
    return this.options.timers ?? realTimers;
  }

  add(key: string): void {
    if (this.closed) return;
    const d = this.delayed.get(key);
    if (d) {
      this.timers.clearTimeout(d.handle);
      this.delayed.delete(key);
    }
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.queued.add(key);
    const w = this.waiters.shift();
    if (w) {
      this.queued.delete(key);
      this.processing.add(key);
      w(key);
    } else this.ready.push(key);
  }

  /** Queue after `ms`; an earlier pending schedule wins (never postpones work). */
  addAfter(key: string, ms: number): void {
    if (this.closed) return;
    if (ms <= 0) return this.add(key);
    const now = (this.options.now ?? Date.now)();
    const existing = this.delayed.get(key);
    if (existing && existing.at <= now + ms) return;
    if (existing) this.timers.clearTimeout(existing.handle);
    const handle = this.timers.setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, ms);
    this.delayed.set(key, { at: now + ms, handle });
  }

  /** Re-queue with backoff: base * 2^failures, capped. */
  addRateLimited(key: string): number {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    const ms = Math.min((this.options.baseDelayMs ?? 500) * 2 ** n, this.options.maxDelayMs ?? 300_000);
    this.addAfter(key, ms);
    return ms;
  }

  forget(key: string): void {
    this.failures.delete(key);
  }

  /** The next key (waits); undefined once the queue is shut down. */
  get(): Promise<string | undefined> {
    if (this.closed) return Promise.resolve(undefined);
    const key = this.ready.shift();
    if (key !== undefined) {
      this.queued.delete(key);
      this.processing.add(key);
      return Promise.resolve(key);
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Marks a key finished; runs it again if it was added meanwhile. */
  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.delete(key)) this.add(key);
  }

  depth(): number {
    return this.ready.length;
  }

  shutdown(): void {
    this.closed = true;
    for (const d of this.delayed.values()) this.timers.clearTimeout(d.handle);
    this.delayed.clear();
    for (const w of this.waiters.splice(0)) w(undefined);
  }
}
