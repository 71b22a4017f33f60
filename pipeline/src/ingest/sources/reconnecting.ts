import { CircuitState, ConsecutiveBreaker, circuitBreaker, handleAll, BrokenCircuitError } from 'cockatiel';
import { backoffDelay } from '../../shared/backoff.js';
import { sleep, type SourceContext } from './types.js';

export interface Connection {
  /** resolves (with the reason, if any) when the connection is gone */
  closed: Promise<Error | undefined>;
  pause(): void;
  resume(): void;
  /** close now; `closed` resolves afterwards */
  close(): void;
}

export interface ReconnectOptions {
  id: string;
  ctx: SourceContext;
  reconnect: { initialDelayMs: number; maxDelayMs: number };
  breaker: { failureThreshold: number; halfOpenAfterMs: number };
  /** opens one connection; rejects when it cannot (refused, timeout, auth) */
  connect(): Promise<Connection>;
}

/** cockatiel's states → the catalogue's `aisflow_ingest_breaker_state` (0 closed, 1 half-open, 2 open) */
const breakerGauge: Record<CircuitState, number> = {
  [CircuitState.Closed]: 0,
  [CircuitState.HalfOpen]: 1,
  [CircuitState.Open]: 2,
  [CircuitState.Isolated]: 2,
};

/**
 * The life of a client source: connect (through a circuit breaker), read until the connection
 * ends, wait a jittered exponential backoff, and connect again, until stopped. A connection that
 * lived normally resets the backoff; failed connects count towards opening the breaker, and
 * while it is open no connect is attempted until its half-open trial.
 */
export class ReconnectingClient {
  private readonly abort = new AbortController();
  private current: Connection | null = null;
  private paused = false;
  private loop: Promise<void> | null = null;

  constructor(private readonly o: ReconnectOptions) {}

  start(): void {
    this.loop = this.run();
  }

  pause(): void {
    this.paused = true;
    this.current?.pause();
  }

  resume(): void {
    this.paused = false;
    this.current?.resume();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    this.current?.close();
    await this.loop;
  }

  private async run(): Promise<void> {
    const { id, ctx } = this.o;
    const random = ctx.random ?? Math.random;
    const breaker = circuitBreaker(handleAll, {
      halfOpenAfter: this.o.breaker.halfOpenAfterMs,
      breaker: new ConsecutiveBreaker(this.o.breaker.failureThreshold),
    });
    const gauge = ctx.metrics.breakerState.labels(id);
    gauge.set(0);
    const sub = breaker.onStateChange((s) => gauge.set(breakerGauge[s]));
    const connected = ctx.metrics.sourceConnected.labels(id);
    connected.set(0);
    let attempt = 0;
    try {
      while (!this.abort.signal.aborted) {
        let conn: Connection;
        try {
          conn = await breaker.execute(() => this.o.connect());
        } catch (err) {
          if (this.abort.signal.aborted) break;
          if (!(err instanceof BrokenCircuitError)) {
            ctx.logger.warn({ source: id, err: { message: (err as Error).message }, attempt }, 'source connect failed');
          }
          ctx.metrics.reconnects.inc({ source: id });
          await sleep(backoffDelay(attempt++, this.o.reconnect.initialDelayMs, this.o.reconnect.maxDelayMs, random), this.abort.signal);
          continue;
        }
        this.current = conn;
        if (this.paused) conn.pause();
        if (this.abort.signal.aborted) conn.close();
        connected.set(1);
        ctx.logger.info({ source: id }, 'source connected');
        const opened = Date.now();
        const reason = await conn.closed;
        this.current = null;
        connected.set(0);
        if (this.abort.signal.aborted) break;
        ctx.logger.warn({ source: id, reason: reason?.message ?? 'closed by peer' }, 'source connection ended; reconnecting');
        // A connection that stayed up a while was healthy: start the backoff from the beginning.
        if (Date.now() - opened > this.o.reconnect.maxDelayMs) attempt = 0;
        ctx.metrics.reconnects.inc({ source: id });
        await sleep(backoffDelay(attempt++, this.o.reconnect.initialDelayMs, this.o.reconnect.maxDelayMs, random), this.abort.signal);
      }
    } finally {
      sub.dispose();
      connected.set(0);
    }
  }
}
