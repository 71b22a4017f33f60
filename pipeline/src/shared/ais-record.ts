import type { AisMessage } from '../ais/types.js';

/**
 * The normalized record ingest publishes and fusion consumes (docs/record-schema.md).
 * Versioned: a consumer rejects a `v` it does not know (to the DLQ), never guesses.
 */
export interface AisRecordV1 {
  v: 1;
  /**
   * Stable id of the radio report, identical for every receiver that heard it: a hash of the
   * armoured payload(s) and fill bits. Fusion combines it with the report time for history keys.
   */
  key: string;
  /** source id (tag block `s:` or the configured source id) */
  src: string;
  /** receive time, ms since the epoch (tag block `c:` when present, else the ingest clock) */
  rx: number;
  mmsi: number;
  type: number;
  /** decoded fields, names and units per docs/ais-fields.md */
  msg: AisMessage;
}

/** One JetStream message on `<prefix>.msg.<partition>`: many records, one ack. */
export interface AisBatchV1 {
  v: 1;
  partition: number;
  records: AisRecordV1[];
}
