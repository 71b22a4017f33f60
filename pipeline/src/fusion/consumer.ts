import { AckPolicy, DeliverPolicy, type ConsumerMessages, type JetStreamClient, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { subjects, type NatsNames } from '../shared/subjects.js';
import type { Logger } from '../telemetry/logger.js';

/**
 * One partition's durable pull consumer. Messages arrive through the client's `consume()`
 * callback into a buffer; one loop takes up to `batchMaxMessages` at a time and hands them to
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

export class PartitionConsumer {
  private buffer: JsMsg[] = [];
  private messages: ConsumerMessages | undefined;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private running = false;
  private paused = false;
  private pulling = false;

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
        if (!this.paused) await this.pull();
        return;
      } catch (err) {
        if (attempt === 0) this.o.logger.warn({ err, partition: this.o.partition }, 'cannot create the partition consumer yet; retrying');
        await new Promise((r) => setTimeout(r, Math.min(5_000, 500 * 2 ** Math.min(attempt, 4))));
      }
    }
  }

  /** Stop pulling (a store is down): buffered messages go back to JetStream for later. */
  pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.stopPulling();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    if (this.running) this.pull().catch((err: unknown) => this.o.logger.error({ err, partition: this.o.partition }, 'could not resume pulling'));
  }

  /** Stops pulling, finishes (and acks) the batch in hand, hands the rest back. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.stopPulling();
    this.wake?.();
    await this.loop;
  }

  private async pull(): Promise<void> {
    // one pull at a time: a pause and resume in quick succession must not leave two running
    if (this.pulling || this.messages) return;
    this.pulling = true;
    try {
      const consumer = await this.o.js.consumers.get(this.o.names.stream, consumerName(this.o.partition));
      if (!this.running || this.paused) return;
      this.messages = await this.consume(consumer);
    } finally {
      this.pulling = false;
    }
    // paused or stopped while consume() was being set up: stop it again
    if (this.paused || !this.running) this.stopPulling();
  }

  private consume(consumer: Awaited<ReturnType<JetStreamClient['consumers']['get']>>): Promise<ConsumerMessages> {
    return consumer.consume({
      max_messages: this.o.maxAckPending,
      callback: (m) => {
        // deliveries already on the wire when pulling stopped go straight back
        if (this.paused || !this.running) return m.nak(this.o.retryDelayMs);
        this.buffer.push(m);
        this.wake?.();
      },
    });
  }

  private stopPulling(): void {
    const messages = this.messages;
    this.messages = undefined;
    if (messages) {
      messages.stop();
    }
    // the loop is not holding these: give them back at once so another owner can have them
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
