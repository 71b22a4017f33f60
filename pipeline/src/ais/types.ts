import type { Clock } from '../shared/clock.js';

/**
 * The decoder's public contract. Ingest, fusion and the API build on these shapes; change them
 * only together with docs/ais-fields.md and docs/record-schema.md.
 */

/** Why a line was rejected. Snake_case: these double as the `reason` metric label (closed set). */
export type RejectReason =
  | 'checksum_mismatch'
  | 'checksum_missing'
  | 'tag_block_checksum_mismatch'
  | 'tag_block_malformed'
  | 'sentence_malformed'
  | 'line_too_long'
  | 'bad_armor_char'
  | 'bad_fill_bits'
  | 'bad_bit_length'
  | 'fragment_out_of_order'
  | 'fragment_timeout'
  | 'fragment_evicted'
  | 'unknown_type';

/** Lines that are not AIS and are skipped on purpose (counted, never sent to the DLQ). */
export type SkipReason = 'blank' | 'comment' | 'non_ais';

/**
 * A decoded AIS message. Field names and units are documented in docs/ais-fields.md:
 * degrees (WGS84) for lat/lon, knots for speed, degrees true for course/heading, metres for
 * dimensions and draught; every "not available" sentinel surfaces as `null`.
 */
export interface AisMessage {
  type: number;
  repeat: number;
  mmsi: number;
  [field: string]: unknown;
}

/** Names every position-bearing and static message uses, so fusion can read them without a switch per type. */
export interface PositionFields {
  lat?: number | null;
  lon?: number | null;
  /** knots */
  speed?: number | null;
  /** degrees true */
  course?: number | null;
  /** degrees true */
  heading?: number | null;
  /** UTC second of the report (0-59), null when not available or a special value (60-63) */
  second?: number | null;
  status?: number | null;
  accuracy?: boolean;
}

export interface StaticFields {
  shipName?: string | null;
  callsign?: string | null;
  imo?: number | null;
  shipType?: number | null;
  toBow?: number | null;
  toStern?: number | null;
  toPort?: number | null;
  toStarboard?: number | null;
  /** metres */
  draught?: number | null;
  destination?: string | null;
  /** ETA as given (month, day, hour, minute; no year in AIS); null parts are not available. */
  eta?: { month: number | null; day: number | null; hour: number | null; minute: number | null } | null;
}

/** Where and when a message was heard: from the tag block when present, else from the reader. */
export interface SentenceMeta {
  /** receiver/source id: tag block `s:`, else the ingest source's configured id */
  source: string;
  /** receive time in ms since the epoch: tag block `c:`, else the injected clock */
  receivedAt: number;
  /** true when `receivedAt` came from a tag block */
  timeFromTagBlock: boolean;
  /** talker id, e.g. 'AI', 'BS' */
  talker: string;
  /** 'VDM' (heard from others) or 'VDO' (own ship) */
  formatter: 'VDM' | 'VDO';
  /** radio channel as given ('A', 'B', '1', '2' or '') */
  channel: string;
  /** the raw lines that made up the message, in order */
  raw: string[];
  /** the armoured payload of all fragments, concatenated (the basis of the record's dedup key) */
  payload: string;
  /** fill bits of the last fragment */
  fillBits: number;
}

export interface DecoderOptions {
  clock: Clock;
  /** how long a partial multi-sentence message waits for its next part @default 5000 (ms) */
  fragmentTimeoutMs?: number;
  /** bound on partial messages held at once; the oldest is evicted (reason fragment_evicted) @default 1024 */
  maxOpenFragments?: number;
  /** source id for lines without a tag-block `s:` @default '' */
  defaultSource?: string;
  /** lines longer than this are rejected as line_too_long without being parsed @default 4096 (bytes) */
  maxLineLength?: number;
}

/** Stateful (multi-sentence assembly) but never throws on input and never reads the wall clock. */
export interface AisDecoder {
  /** Decode one line, with or without its line ending. */
  decode(line: string | Uint8Array, context?: { source?: string; receivedAt?: number }): DecodeOutcome;
  /** Rejects for partial messages that timed out at clock.now() or were evicted since the last call. Call periodically. */
  expire(): DecodeOutcome[];
  readonly openFragments: number;
}

export type DecodeOutcome =
  | { kind: 'message'; message: AisMessage; meta: SentenceMeta }
  /** a fragment was stored; nothing to emit yet */
  | { kind: 'fragment' }
  | { kind: 'skip'; reason: SkipReason }
  | { kind: 'reject'; reason: RejectReason; detail: string; raw: string; source: string | null; receivedAt: number };
