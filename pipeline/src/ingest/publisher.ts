import { context, trace, SpanKind } from '@opentelemetry/api';
import type { JetStreamClient } from '@nats-io/jetstream';
import { headers } from '@nats-io/transport-node';
import type { AisRecordV1 } from '../shared/ais-record.js';
import { subjects, type NatsNames } from '../shared/subjects.js';
import type { IngestMetrics } from '../telemetry/metrics/ingest.js';
import { aisflowTracer, injectTraceHeaders } from '../telemetry/tracing.js';
import { SpanAttributes, SpanNames } from '../telemetry/attributes.js';
import type { Logger } from '../telemetry/logger.js';
import { RateLimitedLog } from './rate-limited-log.js';

/**
 * What the publisher's NATS connection needs. noAsyncTraces: the client otherwise builds an Error
 * (with a stack trace) per request, to have a useful stack if it fails; one per published batch
 * was ~5% of ingest's CPU time. A failed publish is logged by name and message and retried, its
 * stack adds nothing. Shared with bench:fusion, whose load generator plays ingest.
 */
export const PUBLISHER_CONNECTION_OPTIONS = { noAsyncTraces: true } as const;

export interface PublisherOptions {
  js: JetStreamClient;
  names: NatsNames;
  partitions: number;
  /** seal a batch at this many records */
  maxRecords: number;
  /** seal a batch before its JSON exceeds this many bytes */
  maxBytes: number;
  /** a batch waits at most this long for more records while the window has room (ms) */
  lingerMs: number;
  /** publishes awaiting an ack at once */
  maxInflight: number;
  /** wait this long for one ack before retrying with the same Nats-Msg-Id (ms) */
  timeoutMs: number;
  /** pause sources at this many unacknowledged records; resume at half */
  maxPendingRecords: number;
  /** unique per process run: makes batch ids unique across restarts and replicas */
  runId: string;
  metrics: IngestMetrics;
  logger: Logger;
  /** called with true when sources must pause, false when they may resume */
  onBackpressure?: (paused: boolean) => void;
  /** @default Date.now */
  now?: () => number;
}

interface OpenBatch {
  partition: number;
  /** the batch's JSON so far, UTF-8: `{"v":1,"partition":N,"records":[` then records joined by commas */
  buf: Buffer;
  /** bytes of `buf` in use */
  len: number;
  /** records in `buf` */
  count: number;
  openedAt: number;
  sealed: boolean;
}

interface Outgoing {
  subject: string;
  data: Uint8Array;
  msgId: string;
  /** records this message carries (1 for a dead letter) */
  count: number;
  /** dead letters are counted under dlq_writes_total, not as batches */
  dlq?: { source: string; reason: string };
  /** the batch buffer `data` is a view of: reused once the publish is acknowledged */
  buf?: Buffer;
  attempts: number;
}

const TAIL = ']}';
/**
 * Smallest first capacity of a batch buffer. A new batch starts at the size its partition's last
 * batch reached (+25%), so a busy partition does not regrow (allocate and copy) through every
 * doubling for each batch, and a quiet one stays small.
 */
const INITIAL_BATCH_BYTES = 16 * 1024;
/** a sealed batch is copied to its exact size when its buffer wastes more than this while in flight */
const MAX_SLACK_BYTES = 64 * 1024;
/**
 * Acknowledged batch buffers kept for reuse. Allocating a fresh one per batch (tens of KB outside
 * the JS heap, thousands per second) drove V8 into extra collections through external-memory
 * pressure; reused ones cost nothing. Bounded: at most this many wait idle.
 */
const MAX_SPARE_BUFFERS = 256;

/**
 * Groups records into one batch per partition and publishes each batch as one JetStream message
 * (JetStream's per-message ack cost caps single-record publishing near 25k msgs/s; batches go far
 * past it). Contract:
 * - a batch is sealed when full (records or bytes), or when it has lingered `lingerMs` and the
 *   window has room: while the window is full batches keep filling, so batch size grows with
 *   load instead of queueing many small messages;
 * - at most `maxInflight` publishes await acks; a failed or timed-out publish is retried forever
 *   (until drain gives up) with the same Nats-Msg-Id, so JetStream drops the copy if the first
 *   attempt did land. Order within a partition is therefore not guaranteed across retries:
 *   fusion orders by report time, not by arrival;
 * - `pending` counts records not yet acknowledged; crossing `maxPendingRecords` asks sources to
 *   pause, dropping under half lets them resume. Nothing read is ever dropped here.
 */
export class BatchPublisher {
  private readonly open = new Map<number, OpenBatch>();
  /** bytes of each partition's last sealed batch: the first capacity of its next one */
  private readonly lastBatchBytes: number[] = [];
  /** open batches in the order they were opened (oldest first); sealed ones are skipped lazily */
  private openOrder: OpenBatch[] = [];
  private readonly ready: Outgoing[] = [];
  private readonly spare: Buffer[] = [];
  private inflight = 0;
  private pendingRecords = 0;
  private seq = 0;
  private timer: NodeJS.Timeout | null = null;
  private draining = false;
  private paused = false;
  private idleWaiters: Array<() => void> = [];
  private readonly now: () => number;
  private readonly log: RateLimitedLog;
  private readonly tracer = aisflowTracer();

  constructor(private readonly o: PublisherOptions) {
    this.now = o.now ?? Date.now;
    this.log = new RateLimitedLog(o.logger);
  }

  get pending(): number {
    return this.pendingRecords;
  }

  get inFlight(): number {
    return this.inflight;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /**
   * Adds one record to its partition's batch. For single records (tools, tests): ingest's hot path
   * hands over records its decode workers already encoded (`addEncoded`).
   */
  add(record: AisRecordV1, partition: number): void {
    const bytes = Buffer.from(`,${JSON.stringify(record)}`, 'utf8');
    this.addEncoded(partition, bytes, Int32Array.of(bytes.length), 0, 1);
  }

  /**
   * Adds records of one partition that are already JSON (UTF-8): record k (k in first…first+count)
   * spans `bytes[k === 0 ? 1 : ends[k - 1] + 1, ends[k])`, as decode workers lay them out
   * (decode-protocol.ts). Runs of records are copied into the batch's buffer as they are; a batch
   * is sealed at maxRecords, or before the record that would take it past maxBytes (a record
   * larger than maxBytes on its own travels alone). Never blocks and never drops: callers pause
   * on backpressure. Bytes live outside the JS heap: holding records as strings or objects until
   * a batch is sealed had made GC a large share of the CPU time.
   */
  addEncoded(partition: number, bytes: Uint8Array, ends: Int32Array, first: number, count: number): void {
    this.pendingRecords += count;
    if (!this.paused && this.pendingRecords >= this.o.maxPendingRecords) this.addPending(0);
    const last = first + count;
    let k = first;
    let sealed = false;
    while (k < last) {
      const batch = this.open.get(partition) ?? this.openBatch(partition, this.now());
      const from = k === 0 ? 1 : ends[k - 1]! + 1;
      const sep = batch.count > 0 ? 1 : 0;
      const roomBytes = this.o.maxBytes - TAIL.length - batch.len - sep;
      const roomRecords = this.o.maxRecords - batch.count;
      let j = k;
      while (j < last && j - k < roomRecords && ends[j]! - from <= roomBytes) j++;
      if (j === k) {
        if (batch.count > 0) {
          this.finish(batch);
          sealed = true;
          continue;
        }
        j = k + 1;
      }
      const to = ends[j - 1]!;
      this.reserve(batch, batch.len + sep + (to - from) + TAIL.length);
      if (sep) batch.buf[batch.len++] = 44; // ','
      batch.buf.set(bytes.subarray(from, to), batch.len);
      batch.len += to - from;
      batch.count += j - k;
      k = j;
      // Stopped early (a limit was reached) or at exactly maxRecords: the batch is full.
      if (k < last || batch.count >= this.o.maxRecords) {
        this.finish(batch);
        sealed = true;
      }
    }
    if (sealed) this.pump();
    // Open batches are sent by the linger timer (or when a publish completes): no pump per add.
    else if (!this.timer) this.armTimer();
  }

  private openBatch(partition: number, openedAt: number): OpenBatch {
    const head = `{"v":1,"partition":${partition},"records":[`;
    const buf = this.takeBuffer(Math.max(INITIAL_BATCH_BYTES, head.length * 2, Math.ceil((this.lastBatchBytes[partition] ?? 0) * 1.25)));
    const batch: OpenBatch = { partition, buf, len: buf.write(head, 0, 'latin1'), count: 0, openedAt, sealed: false };
    this.open.set(partition, batch);
    this.openOrder.push(batch);
    return batch;
  }

  private reserve(batch: OpenBatch, need: number): void {
    if (need <= batch.buf.length) return;
    const grown = this.takeBuffer(Math.max(need, batch.buf.length * 2));
    batch.buf.copy(grown, 0, 0, batch.len);
    this.giveBuffer(batch.buf);
    batch.buf = grown;
  }

  /** A spare buffer of at least `min` bytes (the most recently returned that fits), else a new one. */
  private takeBuffer(min: number): Buffer {
    const spare = this.spare;
    for (let i = spare.length - 1; i >= 0; i--) {
      const b = spare[i]!;
      if (b.length < min) continue;
      spare[i] = spare[spare.length - 1]!;
      spare.pop();
      return b;
    }
    return Buffer.allocUnsafe(min);
  }

  private giveBuffer(b: Buffer): void {
    if (this.spare.length < MAX_SPARE_BUFFERS) this.spare.push(b);
  }

  /**
   * Counts `n` records as read before they exist (positive), or takes such a count back (negative):
   * bytes on their way to a decode worker count against maxPendingRecords from the moment they are
   * read, so a source pauses before it reads further ahead than the pending limit allows.
   */
  reservePending(n: number): void {
    this.addPending(n);
  }

  /** Queues one dead-letter entry; it shares the window and the pending count with batches. */
  addDeadLetter(subject: string, entry: unknown, dlq: { source: string; reason: string }): void {
    this.seq += 1;
    this.ready.push({
      subject,
      data: Buffer.from(JSON.stringify(entry)),
      msgId: `${this.o.runId}.d.${this.seq}`,
      count: 1,
      dlq,
      attempts: 0,
    });
    this.addPending(1);
    this.pump();
  }

  /**
   * Seals every open batch and waits until everything is acknowledged, or until `timeoutMs`.
   * Returns the number of records still unacknowledged (0 on success).
   */
  async drain(timeoutMs: number): Promise<number> {
    this.draining = true;
    this.pump();
    if (this.pendingRecords === 0) return 0;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, timeoutMs);
      this.idleWaiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
    return this.pendingRecords;
  }

  /** Stops timers; in-flight retries stop too (used after drain gave up). */
  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.closed = true;
  }

  private closed = false;

  /** Applies `n` to the pending count and acts on it. `add()` counts its records itself and lets the gauge catch up here (per publish and ack, not per record). */
  private addPending(n: number): void {
    this.pendingRecords += n;
    this.o.metrics.pendingRecords.set(this.pendingRecords);
    if (!this.paused && this.pendingRecords >= this.o.maxPendingRecords) {
      this.paused = true;
      this.o.onBackpressure?.(true);
    } else if (this.paused && this.pendingRecords <= this.o.maxPendingRecords / 2) {
      this.paused = false;
      this.o.onBackpressure?.(false);
    }
    if (this.pendingRecords === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  /** Closes a batch and queues it. */
  private finish(batch: OpenBatch): void {
    if (batch.sealed) return;
    batch.sealed = true;
    this.open.delete(batch.partition);
    this.seq += 1;
    batch.len += batch.buf.write(TAIL, batch.len, 'latin1');
    this.lastBatchBytes[batch.partition] = batch.len;
    // The buffer is handed over, not copied, unless much of it would sit unused until the ack.
    const copy = batch.buf.length - batch.len > MAX_SLACK_BYTES;
    const data = copy ? Buffer.from(batch.buf.subarray(0, batch.len)) : batch.buf.subarray(0, batch.len);
    if (copy) this.giveBuffer(batch.buf);
    this.ready.push({
      subject: subjects.partition(this.o.names, batch.partition),
      data,
      ...(copy ? {} : { buf: batch.buf }),
      // Same id on every retry of this batch: JetStream's duplicate window drops re-sends.
      msgId: `${this.o.runId}.${batch.partition}.${this.seq}`,
      count: batch.count,
      attempts: 0,
    });
  }

  /** Sends what the window allows: sealed batches first, then open batches whose linger expired. */
  private pump(): void {
    if (this.closed) return;
    this.o.metrics.pendingRecords.set(this.pendingRecords);
    while (this.inflight < this.o.maxInflight) {
      let next = this.ready.shift();
      if (!next) {
        const oldest = this.oldestOpen();
        if (!oldest) break;
        if (!this.draining && this.now() - oldest.openedAt < this.o.lingerMs) break;
        this.finish(oldest);
        next = this.ready.shift();
        if (!next) break;
      }
      this.send(next);
    }
    this.armTimer();
  }

  private oldestOpen(): OpenBatch | undefined {
    while (this.openOrder.length > 0 && this.openOrder[0]!.sealed) this.openOrder.shift();
    // Compact now and then: sealed-by-size batches pile up behind a long-lived open one.
    if (this.openOrder.length > 4 * this.o.partitions + 64) this.openOrder = this.openOrder.filter((b) => !b.sealed);
    return this.openOrder[0];
  }

  private armTimer(): void {
    if (this.timer || this.closed) return;
    const oldest = this.oldestOpen();
    if (!oldest || this.inflight >= this.o.maxInflight) return;
    const wait = Math.max(0, oldest.openedAt + this.o.lingerMs - this.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      this.pump();
    }, wait);
  }

  private send(out: Outgoing): void {
    this.inflight += 1;
    this.o.metrics.publishInflight.set(this.inflight);
    this.attempt(out);
  }

  private attempt(out: Outgoing): void {
    out.attempts += 1;
    const started = performance.now();
    const span = this.tracer.startSpan(SpanNames.ingestPublish, {
      kind: SpanKind.PRODUCER,
      attributes: { [SpanAttributes.subject]: out.subject, [SpanAttributes.messagingSystem]: 'nats', [SpanAttributes.batchRecords]: out.count },
    });
    const h = headers();
    injectTraceHeaders(h, trace.setSpan(context.active(), span));
    this.o.js
      .publish(out.subject, out.data, { msgID: out.msgId, timeout: this.o.timeoutMs, headers: h })
      .then(
        () => {
          span.end();
          this.acked(out, (performance.now() - started) / 1000);
        },
        (err: unknown) => {
          span.recordException(err as Error);
          span.end();
          this.failed(out, err as Error);
        },
      );
  }

  private acked(out: Outgoing, seconds: number): void {
    const m = this.o.metrics;
    this.inflight -= 1;
    m.publishInflight.set(this.inflight);
    m.publishDuration.observe(seconds);
    if (out.dlq) {
      m.dlqWrites.inc(out.dlq);
    } else {
      m.batchesPublished.inc();
      m.recordsPublished.inc(out.count);
      m.batchRecords.observe(out.count);
    }
    // The client copied the message when it was sent; only retries needed it since.
    if (out.buf) this.giveBuffer(out.buf);
    this.addPending(-out.count);
    this.pump();
  }

  private failed(out: Outgoing, err: Error): void {
    this.o.metrics.publishErrors.inc();
    this.log.warn('publish', { err: { name: err.name, message: err.message }, subject: out.subject, attempts: out.attempts }, 'JetStream publish failed; retrying with the same message id');
    if (this.closed) return;
    // The message keeps its window slot while it waits: when NATS is down, the window fills,
    // pending grows, and sources pause instead of memory growing.
    const delay = Math.min(2_000, 50 * 2 ** Math.min(out.attempts, 6)) * (0.5 + Math.random() / 2);
    setTimeout(() => {
      if (!this.closed) this.attempt(out);
    }, delay);
  }
}
