/**
 * Dead-letter entries and the admin operations the API exposes. Nothing is ever dropped
 * silently: what cannot be decoded or stored lands here with its reason.
 */
export interface DlqEntry {
  /** JetStream sequence in the DLQ stream */
  seq: number;
  subject: string;
  /** ISO 8601 time it was dead-lettered */
  time: string;
  /** 'decode' (ingest could not decode the line) or 'fusion' (a record kept failing) */
  stage: 'decode' | 'fusion';
  /** decoder reject reason or error code */
  reason: string;
  detail: string;
  source: string | null;
  /** the raw NMEA line (decode stage) */
  raw?: string;
  /** the record that failed (fusion stage) */
  record?: unknown;
  deliveries?: number;
}

export interface DlqStats {
  messages: number;
  bytes: number;
  firstSeq: number;
  lastSeq: number;
  byStage: { decode: number; fusion: number };
}

export interface DlqAdmin {
  stats(): Promise<DlqStats>;
  peek(options: { limit: number; afterSeq?: number }): Promise<DlqEntry[]>;
  /** Re-submit entries (fusion stage: republish the record; decode stage: re-decode the raw line), then remove them from the DLQ. */
  retry(options: { seqs?: number[]; limit?: number }): Promise<{ retried: number; failed: number }>;
  purge(): Promise<{ purged: number }>;
}
