/**
 * NATS names in one place. The prefix lets tests (and several pipelines on one NATS) run side by
 * side: stream subjects of different streams must not overlap.
 */
export interface NatsNames {
  /** JetStream stream of record batches, subjects `<prefix>.msg.>` @default 'AIS' */
  stream: string;
  /** dead-letter stream, subjects `<prefix>.dlq.>` @default 'AIS_DLQ' */
  dlqStream: string;
  /** subject prefix @default 'ais' */
  prefix: string;
}

export const defaultNatsNames: NatsNames = { stream: 'AIS', dlqStream: 'AIS_DLQ', prefix: 'ais' };

export const subjects = {
  partition: (n: NatsNames, partition: number) => `${n.prefix}.msg.${partition}`,
  allPartitions: (n: NatsNames) => `${n.prefix}.msg.>`,
  dlqDecode: (n: NatsNames, source: string) => `${n.prefix}.dlq.decode.${toSubjectToken(source)}`,
  dlqFusion: (n: NatsNames, partition: number) => `${n.prefix}.dlq.fusion.${partition}`,
  allDlq: (n: NatsNames) => `${n.prefix}.dlq.>`,
  /** core NATS (not JetStream): live vessel updates fusion publishes for the API's SSE stream */
  updates: (n: NatsNames, partition: number) => `${n.prefix}.updates.${partition}`,
  allUpdates: (n: NatsNames) => `${n.prefix}.updates.>`,
} as const;

/** Source ids come from tag blocks (untrusted): keep subject tokens to a safe alphabet. */
export function toSubjectToken(value: string): string {
  const token = value.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64);
  return token.length > 0 ? token : '_';
}
