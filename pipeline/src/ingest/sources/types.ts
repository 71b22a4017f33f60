import type { Clock } from '../../shared/clock.js';
import type { IngestMetrics } from '../../telemetry/metrics/ingest.js';
import type { Logger } from '../../telemetry/logger.js';
import type { LineHandler } from '../line-handler.js';

/** What every source adapter is given: a handler per connection (multi-sentence state is per stream of lines). */
export interface SourceContext {
  newHandler(): LineHandler;
  metrics: IngestMetrics;
  logger: Logger;
  clock: Clock;
  /** @default Math.random (tests pin it) */
  random?: () => number;
}

/**
 * One configured source. Contract: `start()` begins reading and never throws for network
 * trouble (it reconnects); `pause()` stops reading without losing what was read (TCP: the
 * kernel and the sender buffer); `stop()` stops reading, hands every complete line already read
 * to the handler, and resolves when nothing more will come.
 */
export interface Source {
  readonly id: string;
  start(): void;
  pause(): void;
  resume(): void;
  stop(): Promise<void>;
  /** resolves when a finite source (a file replay without loop) has read everything */
  readonly finished: Promise<void>;
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Resolves while not paused; used by sources that read in a loop (file). */
export class PauseGate {
  private waiters: Array<() => void> = [];
  paused = false;

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  wait(): Promise<void> | undefined {
    if (!this.paused) return undefined;
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}

export function splitHostPort(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(':');
  const host = address.slice(0, i).replace(/^\[(.*)\]$/, '$1');
  return { host, port: Number(address.slice(i + 1)) };
}
