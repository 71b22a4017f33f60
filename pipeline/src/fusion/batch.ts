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
   * Postgres writes of different partitions' batches in flight at once; batches waiting meanwhile
   * are merged into the next write (one transaction). The pool holds 4 connections: 4 writes
   * keep all of them busy under load. Redis writes are not merged: each batch writes its own
   * states on the way to visible (merging them saved no CPU, docs/fusion.md).
   * @default 4
   */
  maxConcurrentWrites?: number;
  /**
   * A merged write stops taking waiting batches at this many history rows + states: past a few
   * thousand rows a transaction is no cheaper per row, and one huge write only delays every
   * batch in it (latency) and builds its whole text at once (memory).
   * @default 8000
   */
  maxMergedRows?: number;
  /** stream sequences remembered as committed, and as written (a redelivery of one is acked at once) @default 20000 */
  committedMemory?: number;
  /**
   * Message bytes taken from JetStream and not yet acked or nak'ed, over all partitions, past
   * which `handle` waits before parsing the next batch. A parsed record with everything fusion
   * derives from it (memories, rows, states, the payloads built for the stores) is ~10x its
   * JSON, and every owned partition has a batch on the way at once under a backlog: without
   * this bound a member draining 16 partitions held ~70,000 records (~480 MB of heap). One batch
   * alone always goes, whatever its size. @default 4194304
   */
  maxInFlightBytes?: number;
  /**
   * A Postgres write of fewer than a quarter of `maxMergedRows` rows waits up to this long for
   * more batches to merge with. A transaction costs Postgres, PgBouncer and fusion nearly as much
   * for 10 rows as for 1,000, and writes are off the path to visible (Redis), so at a steady rate
   * small writes only burn the shared cores: without the wait 4 writes were always in flight and
   * the machine was as busy at 5,000 records/s as at 10,000. Acks wait as long. 0: no wait.
   * @default 50
   */
  postgresLingerMs?: number;
}

interface PendingWrite {
  history: BatchPlan['history'];
  vessels: BatchPlan['vessels'];
  /** history rows + vessel upserts */
  rows: number;
  /** performance.now() when queued (the linger is real time, whatever clock decides) */
  queuedAt: number;
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
  /**
   * Dropped (null) once the batch is in Redis and committed: a parsed record lives on only until
   * then, not through the Postgres write and the ack. Records held that long outlived several
   * young-generation collections, each copying them (~10 µs of scavenging per record in a backlog
   * drain). The rare retry after a failed Postgres write parses the message again (recordsOf).
   */
  records: BatchRecord[] | null;
  /** how many records the message holds */
  count: number;
  partition: number;
}

/** A record with where it came from: trust effects are committed once per (message, record). */
interface BatchRecord extends PlannedRecord {
  message: ParsedMessage;
  index: number;
}

export class BatchProcessor {
  private readonly queue: PendingWrite[] = [];
  /** history rows + vessel upserts in `queue` */
  private queuedRows = 0;
  /** set while the queue waits for more rows (see postgresLingerMs) */
  private lingering: NodeJS.Timeout | undefined;
  private writesInFlight = 0;
  /**
   * Stream sequences whose effects fusion has committed: `true` for a whole message, else the
   * record indexes (a message split by the poison search). A redelivery (Postgres failed after
   * Redis took the batch, ack lost, ack wait expired while the message waited, a hand-over)
   * must not count its trust effects again: a late copy would even be penalised as a late
   * duplicate. Bounded, oldest forgotten first.
   */
  private readonly committed = new Map<number, true | Set<number>>();
  /** stream sequences acked after both stores took them: a redelivery is acked at once (bounded) */
  private readonly written = new Set<number>();
  /** per partition: batches in Redis and committed whose Postgres write (then ack) is pending */
  private readonly pending = new Map<number, Set<Promise<void>>>();
  /** see maxInFlightBytes; the waiters re-check on every release */
  private inFlightBytes = 0;
  private admissionWaiters: Array<() => void> = [];
  /** per partition: the apply in progress (decide → Redis → commit runs one at a time per partition) */
  private readonly applying = new Map<number, Promise<unknown>>();

  constructor(private readonly d: BatchDeps) {}

  /**
   * Handles one pulled batch of one partition. Resolves once the batch is decided, in Redis,
   * committed to fusion's memory and published as live updates; its Postgres write goes on in
   * the background and its messages are acked (or nak'ed) when that ends, so the partition's next
   * batch is not held behind a Postgres commit. It first waits while the process holds
   * `maxInFlightBytes` of batches. Never throws; `settled()` waits for the acks.
   */
  async handle(partition: number, msgs: JsMsg[]): Promise<void> {
    let bytes = 0;
    for (const msg of msgs) bytes += msg.data.length;
    await this.admit(bytes);
    let settled: Promise<void> = Promise.resolve();
    try {
      const parsed: ParsedMessage[] = [];
      for (const msg of msgs) {
        if (this.written.has(msg.info.streamSequence)) {
          // both stores have it and its effects are committed: a redelivery changes nothing
          msg.ack();
          this.d.logger.debug({ partition, seq: msg.info.streamSequence }, 'redelivery of a written message acked');
          continue;
        }
        const p = await this.parse(partition, msg);
        if (p) parsed.push(p);
      }
      if (parsed.length > 0) {
        const ctx = extractTraceContext(parsed[0]!.msg.headers);
        // an object, not the promise itself: an async function's returned promise would be awaited
        ({ settled } = await tracer.startActiveSpan('fusion.batch', { attributes: { 'aisflow.partition': partition, 'aisflow.messages': parsed.length } }, ctx, async (span) => {
          try {
            return await this.handleParsed(partition, parsed);
          } finally {
            span.end();
          }
        }));
      }
    } finally {
      void settled.finally(() => this.release(bytes));
    }
  }

  /** Waits until `bytes` more fit in the in-flight budget (or nothing else is in flight), then takes them. */
  private async admit(bytes: number): Promise<void> {
    const max = this.d.maxInFlightBytes ?? 4 * 1_048_576;
    if (this.inFlightBytes > 0 && this.inFlightBytes + bytes > max) this.d.metrics.admissionWaits.inc();
    while (this.inFlightBytes > 0 && this.inFlightBytes + bytes > max) {
      await new Promise<void>((resolve) => this.admissionWaiters.push(resolve));
    }
    this.inFlightBytes += bytes;
    this.d.metrics.inFlightBytes.set(this.inFlightBytes);
  }

  private release(bytes: number): void {
    this.inFlightBytes -= bytes;
    this.d.metrics.inFlightBytes.set(this.inFlightBytes);
    const waiters = this.admissionWaiters;
    this.admissionWaiters = [];
    for (const wake of waiters) wake();
  }

  /** Resolves when every batch of the partition handed to `handle` so far is acked or nak'ed. */
  async settled(partition: number): Promise<void> {
    for (let set = this.pending.get(partition); set && set.size > 0; set = this.pending.get(partition)) await Promise.all(set);
  }

  private track(partition: number, done: Promise<void>): Promise<void> {
    let set = this.pending.get(partition);
    if (!set) this.pending.set(partition, (set = new Set()));
    const tracked = done.finally(() => set.delete(tracked));
    set.add(tracked);
    return tracked;
  }

  /** Resolves once the batch is in Redis; `settled` once its messages are acked or nak'ed. */
  private async handleParsed(partition: number, parsed: ParsedMessage[]): Promise<{ settled: Promise<void> }> {
    let postgres: Promise<number>;
    const records = parsed.length === 1 ? this.recordsOf(parsed[0]!) : concat(parsed, (p) => this.recordsOf(p));
    try {
      ({ postgres } = await this.apply(partition, records, parsed));
    } catch (err) {
      await this.failed(partition, parsed, err);
      return { settled: Promise.resolve() };
    }
    for (const p of parsed) p.records = null;
    const settled = this.track(
      partition,
      postgres.then(
        () => this.acked(parsed),
        (err: unknown) => this.failed(partition, parsed, err),
      ),
    );
    return { settled };
  }

  /** A batch failed in either store: nak an outage, split anything else to find the poison. */
  private async failed(partition: number, parsed: ParsedMessage[], err: unknown): Promise<void> {
    if (isOutage(err)) {
      this.nak(parsed, 'store_unavailable');
      return;
    }
    if (parsed.length > 1) {
      this.d.logger.warn({ err, partition, messages: parsed.length }, 'batch failed: retrying message by message');
      for (const p of parsed) {
        try {
          await (await this.apply(partition, this.recordsOf(p), [p], true)).postgres;
          this.acked([p]);
        } catch (inner) {
          if (isOutage(inner)) this.nak([p], 'store_unavailable');
          else await this.isolateMessage(partition, p);
        }
      }
      return;
    }
    await this.isolateMessage(partition, parsed[0]!);
  }

  private async isolateMessage(partition: number, only: ParsedMessage): Promise<void> {
    try {
      await this.isolate(partition, only, this.recordsOf(only));
      this.acked([only]);
    } catch (inner) {
      this.nak([only], isOutage(inner) ? 'store_unavailable' : 'failed');
    }
  }

  private acked(parsed: readonly ParsedMessage[]): void {
    const max = this.d.committedMemory ?? 20_000;
    for (const p of parsed) {
      p.msg.ack();
      this.written.add(p.msg.info.streamSequence);
    }
    forgetOldest(this.written, max);
  }

  /** Bisects a failing message's records; a lone failing record is dead-lettered on the last delivery. */
  private async isolate(partition: number, p: ParsedMessage, records: BatchRecord[]): Promise<void> {
    try {
      await (await this.apply(partition, records, [p], true)).postgres;
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
      await this.deadLetter(partition, p.msg, records[0]!.index, records[0]!.record, reason, err);
    }
  }

  /**
   * Coalesces the Postgres writes of concurrent batches: a few large transactions beat many
   * small ones. Partitions never share vessels, so merging is concatenation; the vessel upserts
   * are re-sorted by mmsi. If a merged write fails every batch in it fails and takes its own
   * retry path; the poison search writes alone (see isolate), so one bad record cannot keep
   * failing the others.
   */
  private submit(history: BatchPlan['history'], vessels: BatchPlan['vessels']): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      const rows = history.length + vessels.length;
      this.queue.push({ history, vessels, rows, queuedAt: performance.now(), resolve, reject });
      this.queuedRows += rows;
      this.drain();
    });
  }

  private drain(): void {
    const maxRows = this.d.maxMergedRows ?? 8_000;
    const lingerMs = this.d.postgresLingerMs ?? 50;
    while (this.queue.length > 0 && this.writesInFlight < (this.d.maxConcurrentWrites ?? 4)) {
      const waited = performance.now() - this.queue[0]!.queuedAt;
      if (this.queuedRows < maxRows / 4 && waited < lingerMs) {
        this.lingering ??= setTimeout(() => {
          this.lingering = undefined;
          this.drain();
        }, lingerMs - waited);
        return;
      }
      let take = 1;
      let rows = this.queue[0]!.rows;
      for (; take < this.queue.length; take++) {
        const next = this.queue[take]!.rows;
        if (rows + next > maxRows) break;
        rows += next;
      }
      const items = this.queue.splice(0, take);
      this.queuedRows -= rows;
      this.writesInFlight++;
      const one = items.length === 1;
      const history = one ? items[0]!.history : concat(items, (i) => i.history);
      const vessels = one ? items[0]!.vessels : concat(items, (i) => i.vessels).sort((a, b) => a.mmsi - b.mmsi);
      this.writePostgres(history, vessels)
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

  private async writePostgres(history: BatchPlan['history'], vessels: BatchPlan['vessels']): Promise<number> {
    if (history.length === 0 && vessels.length === 0) return 0;
    const written = await this.timed('postgres', () => this.d.history.writeBatch({ history, vessels }));
    if (written.vesselsRejected) this.d.metrics.vesselsRejected.inc({ reason: 'invalid_mmsi' }, written.vesselsRejected);
    return written.historyInserted;
  }

  /** Parses a message; a malformed one is dead-lettered whole and acked (retrying cannot fix it). */
  private async parse(partition: number, msg: JsMsg): Promise<ParsedMessage | null> {
    let body: Partial<AisBatchV1>;
    try {
      body = msg.json<Partial<AisBatchV1>>();
    } catch (err) {
      return this.rejectMessage(partition, msg, `not JSON: ${(err as Error).message}`, msg.string().slice(0, 4096));
    }
    if (typeof body !== 'object' || body === null || body.v !== 1 || !Array.isArray(body.records)) {
      return this.rejectMessage(partition, msg, `not an AisBatchV1 (v=${JSON.stringify((body as { v?: unknown } | null)?.v)})`, body);
    }
    const parsed: ParsedMessage = { msg, records: null, count: body.records.length, partition };
    parsed.records = batchRecords(partition, parsed, body.records);
    return parsed;
  }

  /** The message's records, parsed again if they were dropped (see ParsedMessage.records). */
  private recordsOf(p: ParsedMessage): BatchRecord[] {
    if (p.records) return p.records;
    // it parsed as an AisBatchV1 when it arrived: the same bytes parse the same way
    return (p.records = batchRecords(p.partition, p, p.msg.json<AisBatchV1>().records));
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
   * Decides, writes to Redis and commits memories and trust (Postgres goes on in the background:
   * the returned `postgres`), one call at a time per partition: a retry after a
   * failed Postgres write runs beside the partition's loop, and two applies interleaving at the
   * Redis write would commit memories planned from the same state (the later commit undoing the
   * earlier one).
   */
  private apply(partition: number, records: BatchRecord[], from: ParsedMessage[], alone = false): Promise<{ postgres: Promise<number> }> {
    const previous = this.applying.get(partition) ?? Promise.resolve();
    const run = previous.then(
      () => this.applyNow(partition, records, from, alone),
      () => this.applyNow(partition, records, from, alone),
    );
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.applying.set(partition, settled);
    void settled.then(() => {
      if (this.applying.get(partition) === settled) this.applying.delete(partition);
    });
    return run;
  }

  private async applyNow(partition: number, records: BatchRecord[], from: ParsedMessage[], alone: boolean): Promise<{ postgres: Promise<number> }> {
    // No closure made here may name the plan, the records or anything per record: V8 keeps every
    // variable that some closure of a function names in one context object shared by all its
    // closures, and the `postgres` promise returned below lives until Postgres has the batch. A
    // closure naming `plan` kept every batch's plan (memories, states, trust effects) alive through
    // the Postgres linger and write; they survived young-generation collections and were copied
    // and promoted. Hence the helpers (loadMisses, writeRedis, countWhenWritten).
    const d = this.d;
    await this.loadMisses(partition, records);
    const now = d.clock.now();
    const plan = planBatch(records, (mmsi) => d.cache.peek(mmsi), { now, settings: d.decide, trustOf: (s) => d.trust.level(s, now) });

    for (const bad of plan.invalid) {
      const r = records[bad.index]!;
      await this.deadLetter(partition, r.message.msg, r.index, bad.record, 'invalid_record', { code: 'AISFLOW_ERR_FUSION_INVALID_RECORD' satisfies ErrorCode, message: bad.detail });
    }

    // Postgres starts now, in parallel with Redis; a merge queue coalesces concurrent batches
    const postgres = alone ? this.writePostgres(plan.history, plan.vessels) : this.submit(plan.history, plan.vessels);
    // observed by the caller; if Redis fails first nobody waits for it, and that is fine (idempotent)
    postgres.catch(() => undefined);
    if (plan.states.length > 0) await this.writeRedis(plan.states);

    // Redis has it: commit what fusion remembers, so the partition's next batch is decided on
    // top of this one while Postgres still writes. Should Postgres fail, the redelivered records
    // decide as duplicates of what is remembered and still plan the same history rows and vessel
    // rows (plan.ts gives every heard vessel its live fix). Trust effects count once per record.
    for (const [mmsi, memory] of plan.memories) d.cache.set(mmsi, memory);
    d.metrics.lruEntries.set(d.cache.size);
    const touched = new Set<string>();
    for (const { effect, index } of plan.trust) {
      if (this.isCommitted(records[index]!)) continue;
      if (effect.kind === 'accept') d.trust.accept(effect.source, now);
      else {
        d.trust.penalize(effect.source, effect.penalty, now);
        touched.add(effect.source);
      }
    }
    this.markCommitted(records);
    if (touched.size > 0) d.onTrustChange?.(touched);
    try {
      this.publishLive(partition, plan, from);
    } catch (err) {
      d.logger.error({ err, partition }, 'publishing live updates failed');
    }
    // only the outcome counts outlive the call: the plan and the records are not kept through the Postgres write
    return { postgres: this.countWhenWritten(postgres, plan.outcomes, records.length) };
  }

  /** Reads the batch's vessels that the LRU lacks from Redis, in one call per partition chunk. */
  private async loadMisses(partition: number, records: readonly BatchRecord[]): Promise<void> {
    const vessels = new Map<number, { mmsi: number; partition: number }>();
    for (const r of records) {
      const mmsi = (r.record as { mmsi?: unknown } | null)?.mmsi;
      if (typeof mmsi === 'number' && Number.isInteger(mmsi) && !vessels.has(mmsi)) vessels.set(mmsi, { mmsi, partition });
    }
    await this.d.redisBreaker.execute(() => this.d.cache.load(vessels.values(), this.d.live));
  }

  private writeRedis(states: BatchPlan['states']): Promise<unknown> {
    return this.timed('redis', () => this.d.live.writeStates(states));
  }

  /** Counts a batch once both stores have it (tests and dashboards read these as "done"). */
  private countWhenWritten(postgres: Promise<number>, outcomes: BatchPlan['outcomes'], count: number): Promise<number> {
    const metrics = this.d.metrics;
    return postgres.then((inserted) => {
      for (const [outcome, n] of Object.entries(outcomes)) metrics.records.inc({ outcome }, n);
      metrics.batches.inc();
      metrics.batchRecords.observe(count);
      metrics.historyRows.inc(inserted);
      return inserted;
    });
  }

  /**
   * Redis has the batch's states: observe the end-to-end latency and publish the live updates
   * now, not after Postgres too. If Postgres then fails, the batch is decided and written again;
   * Redis already holds those states (the compare-and-set ignores the repeat) and the API gets
   * the same updates once more, which it treats as no change.
   */
  private publishLive(partition: number, plan: BatchPlan, from: ParsedMessage[]): void {
    const d = this.d;
    if (plan.states.length === 0) return;
    const visibleAt = d.clock.now();
    let publishedAt = Infinity;
    for (const p of from) publishedAt = Math.min(publishedAt, p.msg.info.timestampNanos / 1e6);
    const updates = new Array<Record<string, unknown>>(plan.states.length);
    for (let i = 0; i < plan.states.length; i++) {
      const state = plan.states[i]!;
      const rx = plan.stateRx.get(state.mmsi) ?? publishedAt;
      // rx is the receiver's clock (a tag-block time may be old): fall back to the publish time
      const since = rx <= publishedAt && publishedAt - rx < 10_000 ? rx : publishedAt;
      d.metrics.endToEndLatency.observe(Math.max(0, visibleAt - since) / 1000);
      updates[i] = toUpdate(state);
    }
    // one message per batch: a JSON array of compact updates (the API fans it out per vessel)
    d.nc.publish(subjects.updates(d.names, partition), JSON.stringify(updates));
    d.metrics.updatesPublished.inc(plan.states.length);
  }

  private isCommitted(r: BatchRecord): boolean {
    const c = this.committed.get(r.message.msg.info.streamSequence);
    return c === true || (c !== undefined && c.has(r.index));
  }

  private markCommitted(records: readonly BatchRecord[]): void {
    const max = this.d.committedMemory ?? 20_000;
    let last: ParsedMessage | undefined;
    let count = 0;
    const flush = () => {
      if (!last) return;
      const seq = last.msg.info.streamSequence;
      const prior = this.committed.get(seq);
      if (prior === true) return;
      this.committed.delete(seq); // re-inserted last: the map's order is the age order
      if (count === last.count) this.committed.set(seq, true);
      else {
        const indexes = prior ?? new Set<number>();
        for (const r of records) if (r.message === last) indexes.add(r.index);
        this.committed.set(seq, indexes.size === last.count ? true : indexes);
      }
    };
    // records of one message are contiguous (a whole batch concatenates messages in order)
    for (const r of records) {
      if (r.message !== last) {
        flush();
        last = r.message;
        count = 0;
      }
      count++;
    }
    flush();
    forgetOldest(this.committed, max);
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

function batchRecords(partition: number, message: ParsedMessage, records: unknown[]): BatchRecord[] {
  const out = new Array<BatchRecord>(records.length);
  for (let index = 0; index < records.length; index++) out[index] = { record: records[index], partition, message, index };
  return out;
}

function concat<I, T>(items: readonly I[], pick: (item: I) => readonly T[]): T[] {
  let n = 0;
  for (const i of items) n += pick(i).length;
  const out = new Array<T>(n);
  let k = 0;
  for (const i of items) for (const v of pick(i)) out[k++] = v;
  return out;
}

/** The compact live update the API relays over SSE (docs/fusion.md). */
export function toUpdate(s: FusedVesselState): Record<string, unknown> {
  return { mmsi: s.mmsi, ts: s.ts, lat: s.lat, lon: s.lon, speed: s.speed, course: s.course, heading: s.heading, status: s.status, source: s.source, name: s.static?.shipName ?? null };
}

/** Drops the oldest (first inserted) entries of a Set or Map until it holds at most `max`. */
function forgetOldest(seen: Set<number> | Map<number, unknown>, max: number): void {
  for (const key of seen.keys()) {
    if (seen.size <= max) return;
    seen.delete(key);
  }
}
