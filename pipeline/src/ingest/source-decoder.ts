import { Worker } from 'node:worker_threads';
import type { Logger } from '../telemetry/logger.js';
import type { DecodedBatch, DecoderSettings, ToDecoder } from './decode-protocol.js';

export interface SourceDecoderOptions {
  sourceId: string;
  /** messages sent but not yet answered at which the source is paused; it resumes at half */
  maxInflight: number;
  /** true: pause the source (its worker is behind); false: it may read again */
  onBackpressure: (full: boolean) => void;
  logger: Logger;
}

/**
 * The main thread's side of one source's decode worker (decode-worker.ts): decoding and record
 * encoding, most of ingest's CPU time per record, run there, so that the main thread only reads
 * and publishes and one process can use a second core. Contract:
 * - a source's lines are decoded in the order they were read (one worker per source, messages
 *   answered in order), and each answer is handed to its connection's callback in that order;
 * - at most `maxInflight` messages wait for their answer before the source is asked to pause
 *   (bytes already read are still sent: nothing is dropped); it resumes at half;
 * - `idle()` resolves when every message sent has been answered (drain: everything read is
 *   decoded and handed to the publisher before the publisher drains).
 */
export class SourceDecoder {
  private readonly worker: Worker;
  private readonly connections = new Map<number, (batch: DecodedBatch) => void>();
  private nextId = 1;
  private inflight = 0;
  private full = false;
  private dead = false;
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly o: SourceDecoderOptions) {
    this.worker = new Worker(new URL('./decode-worker.mjs', import.meta.url), { name: `aisflow-decode-${o.sourceId}` });
    this.worker.on('message', (batch: DecodedBatch) => this.answered(batch));
    this.worker.on('error', (err) => this.died(err));
    this.worker.on('exit', (code) => {
      if (!this.dead && code !== 0) this.died(new Error(`decode worker exited with code ${code}`));
    });
  }

  /** messages sent and not yet answered */
  get pending(): number {
    return this.inflight;
  }

  /** Registers a connection; `onBatch` gets what each of its messages yielded, in order. */
  open(settings: DecoderSettings, onBatch: (batch: DecodedBatch) => void): number {
    const h = this.nextId++;
    this.connections.set(h, onBatch);
    this.worker.postMessage({ op: 'open', h, settings } satisfies ToDecoder);
    return h;
  }

  /** Sends bytes of connection `h`, read at `now`. They are copied once, into memory that is then transferred. */
  chunk(h: number, now: number, data: Buffer, datagram = false): void {
    const copy = Buffer.allocUnsafeSlow(data.length);
    data.copy(copy);
    this.send({ op: 'chunk', h, now, data: copy, datagram }, [copy.buffer as ArrayBuffer]);
  }

  send(m: Exclude<ToDecoder, { op: 'open' | 'chunk' }> | Extract<ToDecoder, { op: 'chunk' }>, transfer: ArrayBuffer[] = []): void {
    if (this.dead) {
      this.o.logger.error({ source: this.o.sourceId, op: m.op }, 'decode worker is gone: input dropped');
      return;
    }
    this.inflight += 1;
    if (!this.full && this.inflight >= this.o.maxInflight) {
      this.full = true;
      this.o.onBackpressure(true);
    }
    this.worker.postMessage(m, transfer);
  }

  /** Resolves when every message sent so far has been answered. */
  idle(): Promise<void> {
    if (this.inflight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  async close(): Promise<void> {
    this.dead = true;
    await this.worker.terminate();
  }

  private answered(batch: DecodedBatch): void {
    const onBatch = this.connections.get(batch.h);
    if (batch.ended) this.connections.delete(batch.h);
    this.inflight -= 1;
    try {
      onBatch?.(batch);
    } finally {
      if (this.full && this.inflight <= this.o.maxInflight / 2) {
        this.full = false;
        this.o.onBackpressure(false);
      }
      if (this.inflight === 0) this.wake();
    }
  }

  /**
   * The worker catches every decoding error per line, so this is a bug or an out-of-memory: say
   * loudly how much input was lost (it cannot be recovered from a dead thread), and let drain go on.
   */
  private died(err: Error): void {
    if (this.dead) return;
    this.dead = true;
    this.o.logger.error({ source: this.o.sourceId, err: { name: err.name, message: err.message }, unanswered: this.inflight }, 'decode worker died: input it held is lost');
    this.inflight = 0;
    if (this.full) {
      this.full = false;
      this.o.onBackpressure(false);
    }
    this.wake();
  }

  private wake(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
