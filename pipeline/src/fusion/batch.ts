import type { JetStreamClient, JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { context, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import { BrokenCircuitError, type CircuitBreakerPolicy } from 'cockatiel';
import { writeFusionDlq } from '../dlq/entries.js';
import type { AisBatchV1 } from '../shared/ais-record.js';
import type { Clock } from '../shared/clock.js';
import { isAisflowError, type ErrorCode } from '../shared/errors.js';
import { subjects, type NatsNames } from '../shared/subjects.js';
import { isRetryableStoreError, isUnrecoverableStoreError } from '../store/errors.js';
import type { FusedVesselState, HistoryStore, LiveStateStore } from '../store/types.js';
import type { Logger } from '../telemetry/logger.js';
import type { FusionDlqReason, FusionMetrics } from '../telemetry/metrics/fusion.js';
import { extractTraceContext } from '../telemetry/tracing.js';
import type { DecideSettings } from './decide.js';
import { planBatch, type BatchPlan, type PlannedRecord } from './plan.js';
import type { StateCache } from './state-cache.js';
import type { TrustTable } from './trust.js';

/**
 * Per pulled batch: decide every record, write the newest state per vessel to Redis and the
 * history rows + vessel upserts to Postgres (in parallel), and ack the JetStream messages only
 * after both succeeded. Failures are classified:
 * - a store outage (RetryableStoreError, or its breaker is open): nak with delay; the breaker's
 *   listener stops pulling. Never dead-lettered: the data is fine, the store is not.
 * - anything else (UnrecoverableStoreError, a bug on some input): the batch is split message by
 *   message and then record by record to find the poison; on the message's `maxDeliver`-th
 *   delivery that record goes to the DLQ with its error and the rest proceed; before that the
 *   message is nak'ed for another try (the parts already written are idempotent).
 */
export interface BatchDeps {
  live: LiveStateStore;
  history: HistoryStore;
  nc: NatsConnection;
  js: JetStreamClient;
  names: NatsNames;
  metrics: FusionMetrics;
  logger: Logger;
  clock: Clock;
  cache: StateCache;
  trust: TrustTable;
  decide: DecideSettings;
  redisBreaker: CircuitBreakerPolicy;
  postgresBreaker: CircuitBreakerPolicy;
  maxDeliver: number;
  retryDelayMs: number;
  /** reports a trust change for the metrics (source label capping is the caller's business) */
  onTrustChange?(sources: ReadonlySet<string>): void;
  /**
   * Store writes of different partitions' batches in flight at once; batches waiting meanwhile
   * are merged into the next write (one Redis round of scripts, one Postgres transaction).
   * @default 2
   */
  maxConcurrentWrites?: number;
}

interface PendingWrite {
  states: BatchPlan['states'];
  history: BatchPlan['history'];
  vessels: BatchPlan['vessels'];
  resolve(historyInserted: number): void;
  reject(err: unknown): void;
}

const tracer = trace.getTracer('aisflow-fusion');

/** The store is down (or its breaker is open): retry later, never dead-letter. */
export function isOutage(err: unknown): boolean {
  return isRetryableStoreError(err) || err instanceof BrokenCircuitError;
}

interface ParsedMessage {
  msg: JsMsg;
  records: PlannedRecord[];
}

export class BatchProcessor {
  private readonly queue: PendingWrite[] = [];
  private writesInFlight = 0;

  constructor(private readonly d: BatchDeps) {}

  /**
   * Coalesces the store writes of concurrent partition batches: a few large writes beat many
   * small ones (one Postgres transaction and one round of Redis scripts per merge). Partitions
   * never share vessels, so merging is concatenation; the vessel upserts are re-sorted by mmsi.
   * If a merged write fails every batch in it fails and takes its own retry path; the poison
   * search writes alone (see isolate), so one bad record cannot keep failing the others.
   */
  private submit(plan: BatchPlan): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      this.queue.push({ states: plan.states, history: plan.history, vessels: plan.vessels, resolve, reject });
      this.drain();
    });
  }

  private drain(): void {
    while (this.queue.length > 0 && this.writesInFlight < (this.d.maxConcurrentWrites ?? 2)) {
      const items = this.queue.splice(0);
      this.writesInFlight++;
      const states = items.flatMap((i) => i.states);
      const history = items.flatMap((i) => i.history);
      const vessels = items.length === 1 ? items[0]!.vessels : items.flatMap((i) => i.vessels).sort((a, b) => a.mmsi - b.mmsi);
      this.writeBoth(states, history, vessels)
        .then(
          (inserted) => items.forEach((i, n) => i.resolve(n === 0 ? inserted : 0)),
          (err: unknown) => items.forEach((i) => i.reject(err)),
        )
        .finally(() => {
          this.writesInFlight--;
          this.drain();
        });
    }
  }

  /** Redis and Postgres in parallel, each through its breaker; resolves with the history rows inserted. */
  private async writeBoth(states: BatchPlan['states'], history: BatchPlan['history'], vessels: BatchPlan['vessels']): Promise<number> {
    const d = this.d;
    const [, written] = await Promise.all([
      states.length === 0 ? Promise.resolve() : this.timed('redis', () => d.live.writeStates(states)),
      history.length === 0 && vessels.length === 0 ? Promise.resolve({ historyInserted: 0, vesselsUpserted: 0 }) : this.timed('postgres', () => d.history.writeBatch({ history, vessels })),
    ]);
    return written.historyInserted;
  }

  /** Handles one pulled batch of one partition; acks or naks every message, never throws. */
  async handle(partition: number, msgs: JsMsg[]): Promise<void> {
    const parsed: ParsedMessage[] = [];
    for (const msg of msgs) {
      const records = await this.parse(partition, msg);
      if (records) parsed.push({ msg, records });
    }
    if (parsed.length === 0) return;
    const ctx = extractTraceContext(parsed[0]!.msg.headers);
    await tracer.startActiveSpan('fusion.batch', { attributes: { 'aisflow.partition': partition, 'aisflow.messages': parsed.length } }, ctx, async (span) => {
      try {
        await this.handleParsed(partition, parsed);
      } finally {
        span.end();
      }
    });
  }

  private async handleParsed(partition: number, parsed: ParsedMessage[]): Promise<void> {
    try {
      await this.apply(partition, parsed.flatMap((p) => p.records), parsed);
      for (const p of parsed) p.msg.ack();
    } catch (err) {
      if (isOutage(err)) {
        this.nak(parsed, 'store_unavailable');
        return;
      }
      if (parsed.length > 1) {
        this.d.logger.warn({ err, partition, messages: parsed.length }, 'batch failed: retrying message by message');
        for (const p of parsed) await this.handleParsed(partition, [p]);
        return;
      }
      const only = parsed[0]!;
      try {
        await this.isolate(partition, only, only.records);
        only.msg.ack();
      } catch (inner) {
        this.nak([only], isOutage(inner) ? 'store_unavailable' : 'failed');
      }
    }
  }

  /** Bisects a failing message's records; a lone failing record is dead-lettered on the last delivery. */
  private async isolate(partition: number, p: ParsedMessage, records: PlannedRecord[]): Promise<void> {
    try {
      await this.apply(partition, records, [p], true);
    } catch (err) {
      if (isOutage(err)) throw err;
      if (records.length > 1) {
        const half = Math.ceil(records.length / 2);
        await this.isolate(partition, p, records.slice(0, half));
        await this.isolate(partition, p, records.slice(half));
        return;
      }
      const deliveries = p.msg.info.deliveryCount;
      if (deliveries < this.d.maxDeliver) throw err;
      const reason: FusionDlqReason = isUnrecoverableStoreError(err) ? 'store_unrecoverable' : 'max_deliveries';
      const index = p.records.indexOf(records[0]!);
      await this.deadLetter(partition, p.msg, index, records[0]!.record, reason, err);
    }
  }

  /** Parses a message; a malformed one is dead-lettered whole and acked (retrying cannot fix it). */
  private async parse(partition: number, msg: JsMsg): Promise<PlannedRecord[] | null> {
    let body: Partial<AisBatchV1>;
    try {
      body = msg.json<Partial<AisBatchV1>>();
    } catch (err) {
      return this.rejectMessage(partition, msg, `not JSON: ${(err as Error).message}`, msg.string().slice(0, 4096));
    }
    if (typeof body !== 'object' || body === null || body.v !== 1 || !Array.isArray(body.records)) {
      return this.rejectMessage(partition, msg, `not an AisBatchV1 (v=${JSON.stringify((body as { v?: unknown } | null)?.v)})`, body);
    }
    return body.records.map((record) => ({ record, partition }));
  }

  private async rejectMessage(partition: number, msg: JsMsg, detail: string, record: unknown): Promise<null> {
    try {
      await this.deadLetter(partition, msg, -1, record, 'bad_batch', { code: 'AISFLOW_ERR_FUSION_BAD_BATCH' satisfies ErrorCode, message: detail });
      this.d.metrics.records.inc({ outcome: 'invalid' });
    } catch (err) {
      this.d.logger.error({ err, partition }, 'could not dead-letter a malformed message; retrying later');
      msg.nak(this.d.retryDelayMs);
      return null;
    }
    msg.ack();
    return null;
  }

  private async deadLetter(partition: number, msg: JsMsg, index: number, record: unknown, reason: FusionDlqReason, err: unknown): Promise<void> {
    const error = isAisflowError(err)
      ? { code: err.code, message: err.message }
      : typeof err === 'object' && err !== null && 'code' in err && 'message' in err
        ? { code: String((err as { code: unknown }).code), message: String((err as { message: unknown }).message) }
        : { code: 'AISFLOW_ERR_INTERNAL', message: err instanceof Error ? err.message : String(err) };
    await writeFusionDlq(this.d.js, this.d.names, {
      partition,
      record,
      error,
      deliveries: msg.info.deliveryCount,
      // idempotent across redeliveries: the same record of the same stream message
      msgId: `${this.d.names.stream}:${msg.info.streamSequence}:${index}`,
      at: this.d.clock.now(),
    });
    this.d.metrics.dlqWrites.inc({ reason });
    this.d.logger.warn({ partition, reason, error, seq: msg.info.streamSequence }, 'record dead-lettered');
  }

  private nak(parsed: ParsedMessage[], reason: 'store_unavailable' | 'failed'): void {
    for (const p of parsed) p.msg.nak(this.d.retryDelayMs);
    this.d.metrics.naks.inc({ reason }, parsed.length);
  }

  /**
   * Decide and write a set of records. Memories and trust are committed only after both stores
   * took the writes, so a failure leaves the in-process state as it was (a retry decides again).
   */
  private async apply(partition: number, records: PlannedRecord[], from: ParsedMessage[], alone = false): Promise<BatchPlan> {
    const d = this.d;
    const vessels = new Map<number, { mmsi: number; partition: number }>();
    for (const r of records) {
      const mmsi = (r.record as { mmsi?: unknown } | null)?.mmsi;
      if (typeof mmsi === 'number' && Number.isInteger(mmsi)) vessels.set(mmsi, { mmsi, partition });
    }
    await d.redisBreaker.execute(() => d.cache.load(vessels.values(), d.live));
    const now = d.clock.now();
    const plan = planBatch(records, (mmsi) => d.cache.peek(mmsi), { now, settings: d.decide, trustOf: (s) => d.trust.level(s, now) });

    for (const bad of plan.invalid) {
      const owner = from.find((p) => p.records.includes(records[bad.index]!)) ?? from[0]!;
      await this.deadLetter(partition, owner.msg, owner.records.indexOf(records[bad.index]!), bad.record, 'invalid_record', { code: 'AISFLOW_ERR_FUSION_INVALID_RECORD' satisfies ErrorCode, message: bad.detail });
    }

    const historyInserted = alone ? await this.writeBoth(plan.states, plan.history, plan.vessels) : await this.submit(plan);

    // both stores have it: commit what fusion remembers
    const visibleAt = d.clock.now();
    for (const [mmsi, memory] of plan.memories) d.cache.set(mmsi, memory);
    d.metrics.lruEntries.set(d.cache.size);
    const touched = new Set<string>();
    for (const t of plan.trust) {
      if (t.kind === 'accept') d.trust.accept(t.source, now);
      else {
        d.trust.penalize(t.source, t.penalty, now);
        touched.add(t.source);
      }
    }
    if (touched.size > 0) d.onTrustChange?.(touched);
    for (const [outcome, n] of Object.entries(plan.outcomes)) d.metrics.records.inc({ outcome }, n);
    d.metrics.batches.inc();
    d.metrics.batchRecords.observe(records.length);
    d.metrics.historyRows.inc(historyInserted);
    const publishedAt = Math.min(...from.map((p) => p.msg.info.timestampNanos / 1e6));
    for (const state of plan.states) {
      const rx = plan.stateRx.get(state.mmsi) ?? publishedAt;
      // rx is the receiver's clock (a tag-block time may be old): fall back to the publish time
      const since = rx <= publishedAt && publishedAt - rx < 10_000 ? rx : publishedAt;
      d.metrics.endToEndLatency.observe(Math.max(0, visibleAt - since) / 1000);
    }
    // one message per batch: a JSON array of compact updates (the API fans it out per vessel)
    if (plan.states.length > 0) d.nc.publish(subjects.updates(d.names, partition), JSON.stringify(plan.states.map(toUpdate)));
    d.metrics.updatesPublished.inc(plan.states.length);
    return plan;
  }

  private async timed<T>(store: 'redis' | 'postgres', write: () => Promise<T>): Promise<T> {
    const breaker = store === 'redis' ? this.d.redisBreaker : this.d.postgresBreaker;
    const end = this.d.metrics.storeWriteDuration.startTimer({ store });
    return tracer.startActiveSpan(`fusion.write.${store}`, {}, context.active(), async (span: Span) => {
      try {
        return await breaker.execute(write);
      } catch (err) {
        this.d.metrics.storeErrors.inc({ store });
        span.recordException(err as Error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
        throw err;
      } finally {
        end();
        span.end();
      }
    });
  }
}

/** The compact live update the API relays over SSE (docs/fusion.md). */
export function toUpdate(s: FusedVesselState): Record<string, unknown> {
  return { mmsi: s.mmsi, ts: s.ts, lat: s.lat, lon: s.lon, speed: s.speed, course: s.course, heading: s.heading, status: s.status, source: s.source, name: s.static?.shipName ?? null };
}
