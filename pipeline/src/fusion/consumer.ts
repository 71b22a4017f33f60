import { AckPolicy, DeliverPolicy, type JetStreamClient, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { backoffDelay } from '../shared/backoff.js';
import { subjects, type NatsNames } from '../shared/subjects.js';
import type { Logger } from '../telemetry/logger.js';

/**
 * One partition's durable pull consumer. Messages arrive through bounded pull requests
 * (`fetch`, see `pull`) into a buffer; one loop takes up to `batchMaxMessages` at a time and hands them to
 * `handle`, which acks or naks each. Batches grow with the load by themselves: while a batch is
 * being written the next one accumulates. The server's `max_ack_pending` bounds what is held.
 *
 * `max_deliver` is unlimited on purpose: a store outage redelivers messages many times and must
 * never lose them; the bounded-delivery rule (poison record → DLQ) is applied by fusion itself
 * to failures that are not outages.
 */
export interface PartitionConsumerOptions {
  js: JetStreamClient;
  jsm: JetStreamManager;
  names: NatsNames;
  partition: number;
  maxAckPending: number;
  ackWaitMs: number;
  batchMaxMessages: number;
  /**
   * A batch also stops at this many message bytes (at least one message): every partition
   * decides its batch at once, and a batch's records live as JS objects (~5x their JSON) until
   * Redis has them, so this bounds the process's peak memory under a backlog.
   * @default 1048576
   */
  batchMaxBytes?: number;
  /** delay of the nak that hands buffered messages back when pausing or stopping */
  retryDelayMs: number;
  logger: Logger;
  /** resolves when the batch may be followed by the next; its acks may come later (see `settled`) */
  handle(partition: number, messages: JsMsg[]): Promise<void>;
  /** resolves when every batch handed to `handle` is acked or nak'ed */
  settled?(partition: number): Promise<void>;
}

export function consumerName(partition: number): string {
  return `fusion-${partition}`;
}

export async function ensurePartitionConsumer(jsm: JetStreamManager, names: NatsNames, partition: number, options: { maxAckPending: number; ackWaitMs: number }): Promise<void> {
  const config = {
    durable_name: consumerName(partition),
    filter_subject: subjects.partition(names, partition),
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: nanos(options.ackWaitMs),
    max_deliver: -1,
    max_ack_pending: options.maxAckPending,
  };
  try {
    await jsm.consumers.add(names.stream, config);
  } catch {
    // exists with other settings: update what may change
    await jsm.consumers.update(names.stream, consumerName(partition), { ack_wait: config.ack_wait, max_ack_pending: config.max_ack_pending, max_deliver: -1 });
  }
}

/** How many buffered messages the next batch takes: at most `maxMessages` and `maxBytes`, at least one. */
export function batchLength(buffer: readonly { data: { length: number } }[], maxMessages: number, maxBytes: number): number {
  if (buffer.length === 0) return 0;
  let take = 1;
  for (let bytes = buffer[0]!.data.length; take < buffer.length && take < maxMessages; take++) {
    bytes += buffer[take]!.data.length;
    if (bytes > maxBytes) break;
  }
  return take;
}

/**
 * How long one pull request may wait at the server. A stop or pause lets the pull in progress
 * run out (messages arriving meanwhile are handed straight back), so this bounds how long a
 * stop takes. The client gives a pull up after two missed idle heartbeats (half this each): 2 s
 * of silence, which a busy event loop on a shared machine does not reach; at 1 s it did.
 */
const FETCH_EXPIRES_MS = 2_000;

export class PartitionConsumer {
  private buffer: JsMsg[] = [];
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  /** the pull loop while it runs (one at a time) */
  private fetching: Promise<void> | undefined;
  private running = false;
  private paused = false;

  constructor(private readonly o: PartitionConsumerOptions) {}

  get partition(): number {
    return this.o.partition;
  }

  /**
   * Creates (or updates) the durable consumer and starts pulling. Until the stream exists (ingest
   * creates it) or while NATS is away, it keeps trying every couple of seconds in the background.
   */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
    for (let attempt = 0; this.running; attempt++) {
      try {
        await ensurePartitionConsumer(this.o.jsm, this.o.names, this.o.partition, this.o);
        this.pull();
        return;
      } catch (err) {
        if (attempt === 0) this.o.logger.warn({ err, partition: this.o.partition }, 'cannot create the partition consumer yet; retrying');
        await new Promise((r) => setTimeout(r, backoffDelay(attempt, 500, 5_000)));
      }
    }
  }

  /** Stop pulling (a store is down): buffered messages go back to JetStream for later. */
  pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.handBack();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    if (this.running) this.pull();
  }

  /** Stops pulling, finishes (and acks) the batch in hand, hands the rest back. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.handBack();
    this.wake?.();
    await this.loop;
    await this.fetching;
  }

  /**
   * Pulls with bounded requests (`fetch`), not a standing `consume()`: stopping a consume()
   * unsubscribes while its pull request stays open at the server, which then delivers up to
   * `max_ack_pending` messages to nobody. They count as pending until the ack wait (30 s)
   * expires, and the partition's new owner gets nothing meanwhile: a hand-over stalled for the
   * whole ack wait. A fetch is left to end instead, and what it brings after a stop is nak'ed.
   */
  private pull(): void {
    if (this.fetching || !this.running || this.paused) return;
    this.fetching = this.fetchLoop().finally(() => {
      this.fetching = undefined;
      // resumed while the last pull ran out
      this.pull();
    });
  }

  private async fetchLoop(): Promise<void> {
    let consumer: Awaited<ReturnType<JetStreamClient['consumers']['get']>> | undefined;
    for (let failures = 0; this.running && !this.paused; ) {
      try {
        consumer ??= await this.o.js.consumers.get(this.o.names.stream, consumerName(this.o.partition));
        // Half the ack window per pull: a pull the client gives up (missed heartbeats) leaves what
        // the server still sends it pending until the ack wait, and must not hold the whole window
        // meanwhile; the other half keeps the partition flowing. The server never has more than
        // max_ack_pending delivered and unacked, so neither does the buffer.
        const messages = await consumer.fetch({ max_messages: Math.max(1, Math.floor(this.o.maxAckPending / 2)), expires: FETCH_EXPIRES_MS });
        for await (const m of messages) this.take(m);
        failures = 0;
      } catch (err) {
        consumer = undefined; // looked up again: the consumer or the stream may have been re-created
        if (failures++ === 0) this.o.logger.warn({ err, partition: this.o.partition }, 'pulling failed; retrying');
        await new Promise((r) => setTimeout(r, backoffDelay(failures, 250, 5_000)));
      }
    }
  }

  private take(m: JsMsg): void {
    if (this.paused || !this.running) {
      m.nak(this.o.retryDelayMs);
      return;
    }
    this.buffer.push(m);
    this.wake?.();
  }

  /** The loop is not holding these: give them back at once so another owner can have them. */
  private handBack(): void {
    for (const m of this.buffer.splice(0)) m.nak(this.o.retryDelayMs);
  }

  private async run(): Promise<void> {
    while (this.running) {
      if (this.buffer.length === 0) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
        this.wake = undefined;
        continue;
      }
      const batch = this.buffer.splice(0, batchLength(this.buffer, this.o.batchMaxMessages, this.o.batchMaxBytes ?? 1_048_576));
      try {
        await this.o.handle(this.o.partition, batch);
      } catch (err) {
        // handle() acks or naks itself; reaching here is a bug: hand the messages back
        this.o.logger.error({ err, partition: this.o.partition }, 'batch handler failed');
        for (const m of batch) m.nak(this.o.retryDelayMs);
      }
    }
    // the batches in hand finish (acked after both stores) before the rest is handed back
    await this.o.settled?.(this.o.partition).catch((err: unknown) => this.o.logger.error({ err, partition: this.o.partition }, 'waiting for batches in hand failed'));
    for (const m of this.buffer.splice(0)) m.nak(this.o.retryDelayMs);
  }
}
