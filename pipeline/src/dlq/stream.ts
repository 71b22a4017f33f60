import { DiscardPolicy, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { subjects, type NatsNames } from '../shared/subjects.js';
import type { DesiredStream } from '../ingest/streams.js';

export interface DlqLimits {
  maxAgeS: number;
  maxBytes: number;
  replicas: number;
  /** de-duplicates a dead letter written twice (a fusion redelivery) @default 120 */
  duplicateWindowS?: number;
}

/** Stream `AIS_DLQ` on `<prefix>.dlq.>`: one JSON DlqEntry per message, kept for inspection and retry. */
export function dlqStreamConfig(names: NatsNames, limits: DlqLimits): DesiredStream {
  return {
    name: names.dlqStream,
    description: 'aisflow dead letters (one JSON DlqEntry per message)',
    subjects: [subjects.allDlq(names)],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    max_age: nanos(limits.maxAgeS * 1000),
    max_bytes: limits.maxBytes,
    duplicate_window: nanos((limits.duplicateWindowS ?? 120) * 1000),
    num_replicas: limits.replicas,
  };
}
