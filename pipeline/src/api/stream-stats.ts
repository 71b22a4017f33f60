import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';

/** What /metrics/summary reads from JetStream. */
export interface StreamStats {
  records(): Promise<{ name: string; messages: number; bytes: number; lastSeq: number; consumers: number; pending: number; ackPending: number }>;
  dlq(): Promise<{ name: string; messages: number; bytes: number }>;
}

/**
 * Stream and consumer info over the JetStream API. The lag is the sum of the fusion consumers'
 * `num_pending` (published, not yet delivered): it grows when fusion falls behind or stops
 * pulling because a store's breaker is open.
 */
export function natsStreamStats(nc: NatsConnection, streams: { stream: string; dlqStream: string }): StreamStats {
  let jsm: Promise<JetStreamManager> | null = null;
  const manager = () => (jsm ??= jetstreamManager(nc));
  return {
    async records() {
      const m = await manager();
      const info = await m.streams.info(streams.stream);
      let pending = 0;
      let ackPending = 0;
      let consumers = 0;
      for await (const c of m.consumers.list(streams.stream)) {
        consumers += 1;
        pending += c.num_pending;
        ackPending += c.num_ack_pending;
      }
      return {
        name: streams.stream,
        messages: info.state.messages,
        bytes: info.state.bytes,
        lastSeq: info.state.last_seq,
        consumers,
        pending,
        ackPending,
      };
    },
    async dlq() {
      const m = await manager();
      const info = await m.streams.info(streams.dlqStream);
      return { name: streams.dlqStream, messages: info.state.messages, bytes: info.state.bytes };
    },
  };
}
