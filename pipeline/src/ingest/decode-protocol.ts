/**
 * Messages between the ingest main thread and a source's decode worker (decode-worker.ts).
 * Every message but `open` gets exactly one `DecodedBatch` back, in order: the main thread
 * counts what it sent and what came back, which is its backpressure and drain accounting.
 */

/** Settings of one connection's decoder (a source has one per connection: multi-sentence state is per stream of lines). */
export interface DecoderSettings {
  sourceId: string;
  partitions: number;
  maxLineBytes: number;
  fragmentTimeoutMs: number;
}

/** `h` names the connection (handler); `now` is the main thread's clock when the bytes were read. */
export type ToDecoder =
  | { op: 'open'; h: number; settings: DecoderSettings }
  /** bytes of a stream; `datagram`: they end a datagram, whose last line may lack its newline */
  | { op: 'chunk'; h: number; now: number; data: Uint8Array; datagram: boolean }
  /** one whole line from a message-based source */
  | { op: 'text'; h: number; now: number; line: string }
  /** multi-sentence messages whose parts never came: to the DLQ */
  | { op: 'expire'; h: number; now: number }
  /** end of the stream: the last unterminated line, and every open multi-sentence message to the DLQ; the connection is forgotten */
  | { op: 'end'; h: number; now: number };

export interface DecodedReject {
  reason: string;
  detail: string;
  raw: string;
  source: string | null;
}

/**
 * What one message yielded. Records are JSON (`AisRecordV1`), UTF-8, grouped by partition: a
 * segment is the records of one partition joined by commas, ready to be copied into a batch.
 */
export interface DecodedBatch {
  h: number;
  /** the `now` of the message this answers */
  now: number;
  /** ends the connection (answer to `end`) */
  ended: boolean;
  /** every segment, back to back (null when no record) */
  bytes: Uint8Array | null;
  /** per segment: [partition, record count] */
  segments: Int32Array;
  /**
   * per record, in segment order: the byte offset in `bytes` where its JSON ends. Every record is
   * preceded by one separator byte, so record k starts at `k === 0 ? 1 : ends[k - 1] + 1`.
   */
  ends: Int32Array;
  records: number;
  lines: number;
  /** [type, count, type, count, …] of decoded messages */
  types: number[];
  /** [reason, count] of lines skipped on purpose */
  skips: Array<[string, number]>;
  rejects: DecodedReject[];
}
