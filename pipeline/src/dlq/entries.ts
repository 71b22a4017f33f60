import type { JetStreamClient } from '@nats-io/jetstream';
import type { AisRecordV1 } from '../shared/ais-record.js';
import { subjects, type NatsNames } from '../shared/subjects.js';
import type { DlqEntry } from './types.js';

/** What is stored in the DLQ stream: a DlqEntry without `seq`/`subject`, which the stream assigns. */
export type StoredDlqEntry = Omit<DlqEntry, 'seq' | 'subject'>;

/** A line ingest could not decode. `raw` holds every line of a multi-sentence message, joined by "\n". */
export function decodeDlqEntry(input: { reason: string; detail: string; raw: string; source: string | null; at: number }): StoredDlqEntry {
  return { time: new Date(input.at).toISOString(), stage: 'decode', reason: input.reason, detail: input.detail, source: input.source, raw: input.raw };
}

export interface FusionDlqInput {
  /** partition the record was consumed from */
  partition: number;
  record: AisRecordV1 | unknown;
  /** the stable error code (e.g. AISFLOW_ERR_STORE_UNRECOVERABLE) and its message */
  error: { code: string; message: string };
  /** JetStream delivery count when it was given up */
  deliveries: number;
  /** report source id, when known */
  source?: string | null;
  /**
   * Makes the write idempotent: pass `<stream>:<stream sequence>` of the failed message so a
   * crash between the DLQ write and the ack cannot dead-letter it twice. @default none
   */
  msgId?: string;
  /** @default Date.now() */
  at?: number;
}

/**
 * Dead-letters a record fusion gave up on, to `<prefix>.dlq.fusion.<partition>`; resolves once
 * JetStream has stored it (fusion acks the original only after that). Returns the DLQ sequence.
 */
export async function writeFusionDlq(js: JetStreamClient, names: NatsNames, input: FusionDlqInput): Promise<number> {
  const rec = input.record as Partial<AisRecordV1> | null;
  const entry: StoredDlqEntry = {
    time: new Date(input.at ?? Date.now()).toISOString(),
    stage: 'fusion',
    reason: input.error.code,
    detail: input.error.message,
    source: input.source ?? (typeof rec?.src === 'string' ? rec.src : null),
    record: input.record,
    deliveries: input.deliveries,
  };
  const ack = await js.publish(subjects.dlqFusion(names, input.partition), JSON.stringify(entry), input.msgId ? { msgID: input.msgId } : undefined);
  return ack.seq;
}
