import type { StaticFields } from '../ais/types.js';

/**
 * The contract between fusion (which decides) and the stores (which persist). Fusion hands the
 * stores already-decided values; the stores make writes monotonic (newer `ts` wins) and
 * idempotent (a redelivered batch changes nothing), so two fusion processes briefly owning the
 * same partition during a hand-over cannot corrupt state.
 */

/** The fused live state of one vessel: the Redis document, and the `vessels` row's latest fix. */
export interface FusedVesselState {
  mmsi: number;
  partition: number;
  /** time of the report this state reflects, ms since the epoch; the compare-and-set key */
  ts: number;
  lat: number | null;
  lon: number | null;
  /** knots */
  speed: number | null;
  /** degrees true */
  course: number | null;
  /** degrees true */
  heading: number | null;
  /** navigational status (AIS code), null when not given */
  status: number | null;
  /** AIS message type that carried the position */
  msgType: number;
  /** the source whose report won */
  source: string;
  /** sources that heard this vessel recently (bounded, most recent first) */
  sources: string[];
  /** merged static and voyage data (types 5, 19, 24A/B), when any has been seen */
  static: (StaticFields & { updatedAt: number }) | null;
}

/** One position history row. Several receivers hearing the same report make one row. */
export interface HistoryRow {
  /** fusion's identity of the report: mmsi, report second and `report` (merging, de-duplication) */
  key: string;
  /**
   * id of the radio report: ingest's record key, 16 hex digits (a 64-bit hash of the payload).
   * Stored as a bigint; the primary key is (mmsi, ts, report).
   */
  report: string;
  mmsi: number;
  /** report time, ms since the epoch */
  ts: number;
  lat: number;
  lon: number;
  speed: number | null;
  course: number | null;
  heading: number | null;
  status: number | null;
  msgType: number;
  /** every source that heard this report (merged on conflict) */
  sources: string[];
}

/** A change to the `vessels` table: static data merged field by field, latest fix monotonic. */
export interface VesselUpsert {
  mmsi: number;
  /** newest report time seen for the vessel, ms; also revives a soft-deleted vessel */
  lastSeen: number;
  /** latest accepted fix (only moves forward in time), null when this batch has none */
  fix: { ts: number; lat: number; lon: number; speed: number | null; course: number | null; heading: number | null } | null;
  /** static fields to merge (only non-null values overwrite), with their report time */
  static: { ts: number; fields: StaticFields } | null;
  sources: string[];
}

/** Per-source trust as fusion sees it (pure state from fusion/trust.ts), published for the API. */
export interface SourceTrustView {
  id: string;
  /** 0 (distrusted) .. 1 (fully trusted) */
  score: number;
  state: 'trusted' | 'demoted' | 'recovering';
  demotions: number;
  accepted: number;
  rejected: number;
  /** ms since the epoch */
  lastSeen: number;
  /** messages per second over the last minute */
  rate: number;
}

/** Stores fusion writes to. Errors: RetryableStoreError (breaker, stop pulling) vs UnrecoverableStoreError (DLQ). */
export interface LiveStateStore {
  /**
   * Lua compare-and-set per vessel, per half of its document. The position half (everything but
   * `static`) is written only when `ts` is newer than the stored one (a tie loses, so a
   * redelivery is a no-op), and moves the vessel in its partition's geo and live indexes. The
   * static half is written only when its version is higher: `static.updatedAt`, then the number
   * of fields it knows (store/redis/live-state.ts `staticVersion`), whatever the position did;
   * so a state with the stored `ts` and new static data (types 5, 24A/B) merges that data without
   * moving the position, and older static data never replaces newer. `static` is the vessel's
   * whole merged static data: the stored half is replaced, not merged key by key. Of several
   * states of one vessel in the call only the newest (the last on a tie) is written.
   * `written` counts the vessels whose document changed, `stale` the other states.
   */
  writeStates(states: readonly FusedVesselState[]): Promise<{ written: number; stale: number }>;
  writeSources(sources: readonly SourceTrustView[]): Promise<void>;
  /** Cold-cache read for fusion's LRU misses. */
  readStates(mmsis: readonly { mmsi: number; partition: number }[]): Promise<Map<number, FusedVesselState>>;
  close(): Promise<void>;
}

/** What one `HistoryStore.writeBatch` did. */
export interface HistoryWriteResult {
  /** history rows really added (a redelivered or already credited report adds none) */
  historyInserted: number;
  vesselsUpserted: number;
  /**
   * vessel upserts left out because their MMSI is not a vessel identity (0, more than nine
   * digits: see store/mmsi.ts `isValidMmsi`); their history rows are kept. Absent means 0.
   */
  vesselsRejected?: number;
}

export interface HistoryStore {
  /**
   * One transaction: history rows (idempotent) and vessel upserts (sorted by mmsi: no
   * deadlocks). Upserts of an invalid MMSI never reach the `vessels` table (`vesselsRejected`).
   */
  writeBatch(batch: { history: readonly HistoryRow[]; vessels: readonly VesselUpsert[] }): Promise<HistoryWriteResult>;
  close(): Promise<void>;
}
